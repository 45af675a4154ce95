// The database being away (stopped, restarting, unreachable, out of connections) is not a fault of whatever
// was running at the time: callers wait for it or answer 503, and never report it as their own failure.

/** The database did not answer. The pool raises this for every connection-class failure. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
  constructor(cause: unknown) {
    super(`The database is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

// SQLSTATEs of a server that is going away or cannot take a connection: class 08 (connection exception),
// 57P01-57P03 (admin/crash shutdown, cannot connect now), 53300 (too many connections).
const unavailableStates = new Set(['57P01', '57P02', '57P03', '53300']);
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// node-postgres reports a lost or timed-out connection with these messages and no code.
const lostConnection =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|canceling statement due to statement timeout/;

/** Whether a raw driver error means the database could not be reached (as opposed to a bad statement). */
export function isConnectionFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || unavailableStates.has(code) || networkCodes.has(code))) return true;
  if (err instanceof AggregateError && err.errors.some(isConnectionFailure)) return true;
  return lostConnection.test(err.message);
}

/** Whether err, or anything in its cause chain (a tool or the store may wrap it), is the database being away. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DatabaseUnavailableError || (e as { name?: unknown }).name === 'DatabaseUnavailableError') return true;
  }
  return false;
}

/** The error a pool caller sees: connection failures become DatabaseUnavailableError, the rest pass unchanged. */
export function toDbError(err: unknown): unknown {
  return !isDatabaseUnavailable(err) && isConnectionFailure(err) ? new DatabaseUnavailableError(err) : err;
}
