-- Agent Auth: OAuth tokens that tools use on behalf of a user, and the authorizations waiting for their callback.

-- One connection per (user, provider). `secret` is the token set (access token, refresh token, type) sealed with
-- AES-256-GCM under SECRETS_KEY and bound to its (user, provider); every other column is safe to show.
CREATE TABLE agent_auth_tokens (
  user_id text NOT NULL,
  provider text NOT NULL,
  secret text NOT NULL,
  -- The scopes the user was asked for (what tools may rely on), and those the provider said it granted.
  scopes text[] NOT NULL,
  granted_scopes text[],
  refreshable boolean NOT NULL,
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- When the token set was last written: the start of the current access token's lifetime.
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, provider)
);

-- One row per authorization link handed out, keyed by a hash of its OAuth `state`: used once, then deleted.
-- It remembers whose link it is and which tool call waits for it, so the callback can resume that call.
CREATE TABLE agent_auth_requests (
  state_hash text PRIMARY KEY,
  user_id text NOT NULL,
  provider text NOT NULL,
  scopes text[] NOT NULL,
  -- The PKCE code verifier, sealed like tokens (NULL for providers without PKCE).
  verifier text,
  thread_id uuid NOT NULL REFERENCES threads ON DELETE CASCADE,
  run_id uuid NOT NULL,
  task_id text NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_auth_requests_expires_idx ON agent_auth_requests (expires_at);
