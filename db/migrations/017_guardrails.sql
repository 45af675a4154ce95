-- Guardrail middleware: what fired during each run, and the operator's server-wide policies.

-- One row per guardrail that acted (redacted, blocked, ended a run at a limit), so an operator can see why an
-- answer changed. dedupe_key makes a retried activity record the same event once.
CREATE TABLE guardrail_events (
  id bigserial PRIMARY KEY,
  -- No foreign key to runs: input is redacted by the API before the workflow records the run.
  run_id uuid NOT NULL,
  thread_id uuid NOT NULL REFERENCES threads ON DELETE CASCADE,
  middleware text NOT NULL,
  hook text NOT NULL,
  action text NOT NULL,
  message_id text,
  detail jsonb NOT NULL DEFAULT '{}',
  dedupe_key text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX guardrail_events_run_idx ON guardrail_events (run_id, id);

-- The operator's policies (GUARDRAILS_FILE, PUT /policies): middleware applied outside every assistant's own list.
CREATE TABLE guardrail_policies (
  id int PRIMARY KEY CHECK (id = 1),
  middleware jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
