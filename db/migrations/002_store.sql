-- The long-term store: JSON items under a namespace path, and their embeddings for semantic search.

-- Labels compare bytewise (COLLATE "C") so a namespace prefix is a btree range on the primary key:
-- [a, b] <= namespace < [a, b || E'\x01'] holds exactly for the namespaces that start with a, b.
CREATE TABLE store_items (
  namespace text[] COLLATE "C" NOT NULL,
  key text NOT NULL,
  value jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  ttl_minutes double precision,
  PRIMARY KEY (namespace, key)
);
CREATE INDEX store_items_expires_idx ON store_items (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX store_items_value_idx ON store_items USING gin (value jsonb_path_ops);

-- One vector per embedded field. `model` names the embedder (and its size), so switching providers never
-- compares vectors from two different spaces. Vectors are stored unit-length: cosine is the dot product.
CREATE TABLE store_vectors (
  namespace text[] COLLATE "C" NOT NULL,
  key text NOT NULL,
  field text NOT NULL,
  model text NOT NULL,
  embedding real[] NOT NULL,
  PRIMARY KEY (namespace, key, field),
  FOREIGN KEY (namespace, key) REFERENCES store_items ON DELETE CASCADE
);

-- pgvector where the server has it (PGlite ships it; Debian's PostgreSQL may not). Without it, search computes
-- the exact cosine over `embedding` in SQL. A server that gains pgvector later keeps that slower path.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
      RETURN;
    END IF;
    BEGIN
      CREATE EXTENSION vector;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'pgvector is installed but this role may not create it; the store uses exact search over real[]';
      RETURN;
    END;
  END IF;
  EXECUTE 'ALTER TABLE store_vectors ADD COLUMN embedding_vec vector';
END $$;
