-- Scheduled runs. Each cron is also a Temporal Schedule (`cron-<cron_id>`); `sync` says whether the Schedule is
-- known to match this row, so a process that died half way through a change is finished or undone on start.

CREATE TABLE crons (
  cron_id uuid PRIMARY KEY,
  assistant_id uuid NOT NULL REFERENCES assistants ON DELETE CASCADE,
  -- Stateful crons submit to this thread; stateless ones (NULL) make a thread per fire.
  thread_id uuid REFERENCES threads ON DELETE CASCADE,
  -- Who created it: the identity its runs act as once multi-tenancy exists (NULL until then).
  user_id text,
  schedule text NOT NULL,
  timezone text,
  end_time timestamptz,
  enabled boolean NOT NULL DEFAULT true,
  on_run_completed text,
  payload jsonb NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  next_run_date timestamptz,
  -- creating | updating | deleting | synced
  sync text NOT NULL DEFAULT 'creating',
  -- Counts changes, so marking a row synced never hides a newer change that has not reached its Schedule yet.
  revision int NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crons_assistant_idx ON crons (assistant_id);
CREATE INDEX crons_thread_idx ON crons (thread_id);
CREATE INDEX crons_metadata_idx ON crons USING gin (metadata jsonb_path_ops);
CREATE INDEX crons_unsynced_idx ON crons (updated_at) WHERE sync <> 'synced';

-- One row per fire (the Schedule's scheduled time): what it created, or why it created nothing. A retried or
-- repeated fire finds its row and creates no second run.
CREATE TABLE cron_fires (
  cron_id uuid NOT NULL REFERENCES crons ON DELETE CASCADE,
  scheduled_at timestamptz NOT NULL,
  run_id uuid,
  thread_id uuid,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cron_id, scheduled_at)
);
