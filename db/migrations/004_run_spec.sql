-- The run spec the thread workflow needs (without the system prompt and script, which stay in kwargs), stored
-- with the request, so a workflow can carry run ids instead of specs across continue-as-new and can adopt the
-- pending runs of a workflow that was terminated.
ALTER TABLE run_requests ADD COLUMN spec jsonb;
ALTER TABLE runs ADD COLUMN spec jsonb;
