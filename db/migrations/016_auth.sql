-- Multi-tenancy. Built-in authorization tags what a user creates with metadata.owner and filters by it: these
-- indexes let a user's search read only their rows, newest first, instead of scanning everyone's.
CREATE INDEX threads_owner_idx ON threads ((metadata->>'owner'), created_at DESC);
CREATE INDEX crons_owner_idx ON crons ((metadata->>'owner'));
CREATE INDEX assistants_metadata_idx ON assistants USING gin (metadata jsonb_path_ops);

-- Operator actions (an assistant or cron changed, another user's thread read): who, what, when, which request.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  permissions text[] NOT NULL,
  action text NOT NULL,
  resource text NOT NULL,
  resource_id text,
  method text NOT NULL,
  path text NOT NULL,
  request_id text
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
