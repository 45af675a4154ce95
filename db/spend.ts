import type { Db } from './pool.js';

// spend_cap's counters (022_spend_caps.sql): admission under caps and charges, each one transaction that locks
// the scopes' counter rows, so concurrent runs of one user on several workers take turns at the check.

export interface ScopeCap {
  key: string;
  capUsd: number;
}

export interface Refusal {
  key: string;
  spentUsd: number;
  capUsd: number;
}

/** How long a reservation of a run that died before its charge keeps counting. */
const RESERVATION_TTL = '10 minutes';

/**
 * Admits the run's next model call if every scope's spending plus the calls in flight stays under its cap, and
 * then reserves the dearest call seen so far on each scope; otherwise names the first scope over its cap.
 */
export async function admitCall(db: Db, runId: string, caps: ScopeCap[]): Promise<Refusal | null> {
  const keys = [...new Set(caps.map((c) => c.key))].sort(); // one lock order everywhere: no deadlocks
  return db.tx(async (q) => {
    const lock = () =>
      q.query<{ key: string; spent_usd: number; max_call_usd: number; reserved: number }>(
        `SELECT c.key, c.spent_usd, c.max_call_usd,
                (SELECT coalesce(sum(r.usd), 0) FROM spend_reservations r
                  WHERE c.key = ANY(r.keys) AND r.run_id <> $2 AND r.reserved_until > now()) AS reserved
           FROM spend_counters c WHERE c.key = ANY($1::text[]) ORDER BY c.key FOR UPDATE OF c`,
        [keys, runId],
      );
    let { rows } = await lock();
    // A scope's first call makes its counter (a racing run's insert is awaited by ON CONFLICT), then locks again.
    if (rows.length < keys.length) {
      await q.query(`INSERT INTO spend_counters (key) SELECT unnest($1::text[]) ON CONFLICT (key) DO NOTHING`, [keys]);
      ({ rows } = await lock());
    }
    const byKey = new Map(rows.map((r) => [r.key, r]));
    for (const cap of caps) {
      const row = byKey.get(cap.key)!;
      const committed = Number(row.spent_usd) + Number(row.reserved);
      if (committed >= cap.capUsd) return { key: cap.key, spentUsd: Number(row.spent_usd), capUsd: cap.capUsd };
    }
    const reserve = Math.max(0, ...rows.map((r) => Number(r.max_call_usd)));
    await q.query(
      `INSERT INTO spend_reservations (run_id, keys, usd, reserved_until) VALUES ($1, $2, $3, now() + interval '${RESERVATION_TTL}')
       ON CONFLICT (run_id) DO UPDATE SET keys = excluded.keys, usd = excluded.usd, reserved_until = excluded.reserved_until`,
      [runId, keys, reserve],
    );
    return null;
  });
}

/**
 * Charges one model answer to its scopes (once per message id) and releases the run's reservation, in one
 * statement; the counters are updated in key order, as admitCall locks them.
 */
export async function chargeCall(
  db: Db,
  c: { runId: string; messageId: string; model: string; usd: number; keys: string[] },
): Promise<boolean> {
  const keys = [...new Set(c.keys)].sort();
  const { rows } = await db.query<{ charged: number }>(
    `WITH charged AS (
       INSERT INTO spend_charges (message_id, run_id, model, usd) VALUES ($1, $2, $3, $4)
       ON CONFLICT (message_id) DO NOTHING RETURNING usd
     ),
     counted AS (
       INSERT INTO spend_counters (key, spent_usd, max_call_usd)
       SELECT k.key, charged.usd, charged.usd FROM charged, unnest($5::text[]) WITH ORDINALITY AS k(key, ord) ORDER BY k.ord
       ON CONFLICT (key) DO UPDATE SET spent_usd = spend_counters.spent_usd + excluded.spent_usd,
         max_call_usd = greatest(spend_counters.max_call_usd, excluded.max_call_usd), updated_at = now()
     ),
     released AS (DELETE FROM spend_reservations WHERE run_id = $2)
     SELECT count(*)::int AS charged FROM charged`,
    [c.messageId, c.runId, c.model, c.usd, keys],
  );
  return (rows[0]?.charged ?? 0) > 0;
}

/** What a scope has spent (tests and operators). */
export async function spentUsd(db: Db, key: string): Promise<number> {
  const { rows } = await db.query<{ spent_usd: number }>(`SELECT spent_usd FROM spend_counters WHERE key = $1`, [key]);
  return Number(rows[0]?.spent_usd ?? 0);
}
