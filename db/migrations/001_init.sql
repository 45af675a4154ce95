-- Assistants, threads, runs, checkpoints and the per-run event log.

CREATE TABLE assistants (
  assistant_id uuid PRIMARY KEY,
  graph_id text NOT NULL,
  name text NOT NULL,
  description text,
  config jsonb NOT NULL DEFAULT '{}',
  context jsonb NOT NULL DEFAULT '{}',
  metadata jsonb NOT NULL DEFAULT '{}',
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assistants_graph_idx ON assistants (graph_id);

CREATE TABLE assistant_versions (
  assistant_id uuid NOT NULL REFERENCES assistants ON DELETE CASCADE,
  version int NOT NULL,
  graph_id text NOT NULL,
  name text NOT NULL,
  description text,
  config jsonb NOT NULL DEFAULT '{}',
  context jsonb NOT NULL DEFAULT '{}',
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (assistant_id, version)
);

CREATE TABLE threads (
  thread_id uuid PRIMARY KEY,
  metadata jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'idle',
  -- Materialized state at the head checkpoint: a cache, rebuilt from checkpoint writes when needed.
  values jsonb,
  head_checkpoint_id uuid,
  interrupts jsonb NOT NULL DEFAULT '{}',
  config jsonb NOT NULL DEFAULT '{}',
  error jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  state_updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX threads_created_idx ON threads (created_at DESC);
CREATE INDEX threads_metadata_idx ON threads USING gin (metadata jsonb_path_ops);

-- One row per step. `writes` holds only the channel writes of that step (a delta), never the whole state,
-- so a thread's checkpoints grow linearly with its messages.
CREATE TABLE checkpoints (
  thread_id uuid NOT NULL REFERENCES threads ON DELETE CASCADE,
  checkpoint_id uuid NOT NULL,
  parent_checkpoint_id uuid,
  checkpoint_ns text NOT NULL DEFAULT '',
  run_id uuid,
  step int NOT NULL,
  source text NOT NULL,
  writes jsonb,
  next jsonb NOT NULL DEFAULT '[]',
  tasks jsonb NOT NULL DEFAULT '[]',
  metadata jsonb NOT NULL DEFAULT '{}',
  seq bigserial,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (thread_id, checkpoint_id)
);
CREATE INDEX checkpoints_thread_seq_idx ON checkpoints (thread_id, seq DESC);
CREATE INDEX checkpoints_run_idx ON checkpoints (run_id);

-- Results of tasks that finished inside a step that has not completed yet (tool calls of one turn while
-- another waits for a person). Keyed like LangGraph's pending writes.
CREATE TABLE checkpoint_writes (
  thread_id uuid NOT NULL REFERENCES threads ON DELETE CASCADE,
  checkpoint_id uuid NOT NULL,
  task_id text NOT NULL,
  channel text NOT NULL,
  value jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (thread_id, checkpoint_id, task_id, channel)
);

-- A run request as the API received it, stored before the thread workflow decides on it, so that large
-- inputs never travel through Temporal history.
CREATE TABLE run_requests (
  run_id uuid PRIMARY KEY,
  thread_id uuid NOT NULL REFERENCES threads ON DELETE CASCADE,
  assistant_id uuid NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  kwargs jsonb NOT NULL,
  multitask_strategy text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE runs (
  run_id uuid PRIMARY KEY,
  thread_id uuid NOT NULL REFERENCES threads ON DELETE CASCADE,
  assistant_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  metadata jsonb NOT NULL DEFAULT '{}',
  kwargs jsonb NOT NULL DEFAULT '{}',
  multitask_strategy text NOT NULL,
  -- Head checkpoint when the run started: where rollback returns to.
  checkpoint_before uuid,
  error jsonb,
  last_event_seq int NOT NULL DEFAULT -1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  ended_at timestamptz
);
CREATE INDEX runs_thread_idx ON runs (thread_id, created_at DESC);
CREATE INDEX runs_status_idx ON runs (status);

-- The ordered, replayable event log of a run (SSE ids are seq). `__end__` closes it and is never sent.
CREATE TABLE run_events (
  run_id uuid NOT NULL REFERENCES runs ON DELETE CASCADE,
  seq int NOT NULL,
  event text NOT NULL,
  data jsonb,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (run_id, seq)
);

-- Side effects of tools, recorded under their idempotency key so a retried activity never applies one twice.
CREATE TABLE tool_effects (
  idempotency_key text PRIMARY KEY,
  thread_id uuid NOT NULL,
  run_id uuid,
  tool_call_id text NOT NULL,
  tool_name text NOT NULL,
  args jsonb NOT NULL,
  result jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tool_effects_thread_idx ON tool_effects (thread_id);
