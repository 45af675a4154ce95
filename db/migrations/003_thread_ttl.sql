-- Thread time-to-live: a thread unused (not updated) for ttl_minutes is deleted by the sweeper.
ALTER TABLE threads ADD COLUMN ttl_minutes double precision;
CREATE INDEX threads_ttl_idx ON threads (updated_at) WHERE ttl_minutes IS NOT NULL;
