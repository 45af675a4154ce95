-- spend_cap middleware: money spent on model calls, counted per run, per thread and per user per day, shared by
-- every worker so that concurrent runs of one user see one another's spending.

-- One row per counted scope: 'run:<id>', 'thread:<id>', 'user:<id>:<YYYY-MM-DD>' (UTC day). max_call_usd is the
-- dearest call seen in the scope: what a call about to start reserves.
CREATE TABLE spend_counters (
  key text PRIMARY KEY,
  spent_usd double precision NOT NULL DEFAULT 0,
  max_call_usd double precision NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- A model call admitted under a cap and not yet charged holds a reservation on its scopes, so concurrent runs
-- cannot all pass the check at once. A run has one model call in flight at a time; a run that died holding one
-- stops counting after reserved_until.
CREATE TABLE spend_reservations (
  run_id text PRIMARY KEY,
  keys text[] NOT NULL,
  usd double precision NOT NULL,
  reserved_until timestamptz NOT NULL
);

-- Each model answer is charged once, however often the hook that charges it runs (activity retries).
CREATE TABLE spend_charges (
  message_id text PRIMARY KEY,
  run_id text NOT NULL,
  model text NOT NULL,
  usd double precision NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
