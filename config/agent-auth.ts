import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { secretsKeyBytes, type Config } from './index.js';

// Agent Auth's settings: the operator's file of OAuth 2 providers (AGENT_AUTH_PROVIDERS_FILE), the key that seals
// tokens, and the callback URL. API and worker both load them: the worker hands out links and refreshes tokens,
// the API completes the code exchange and revokes.

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);
const isLoopback = (url: string) => loopbackHosts.has(new URL(url).hostname);

// Tokens and client secrets cross these URLs: plain http is accepted only on this machine.
const endpoint = z
  .string()
  .url()
  .refine((u) => u.startsWith('https://') || (u.startsWith('http://') && isLoopback(u)), 'must be https (http only for a loopback host)');

export const providerSchema = z.object({
  authorization_url: endpoint,
  token_url: endpoint,
  /** RFC 7009 revocation endpoint: a revoked connection is revoked there too. */
  revocation_url: endpoint.optional(),
  /** The issuer an OpenID provider names in its responses (`iss`); default: the origin of authorization_url. */
  issuer: z.string().url().optional(),
  client_id: z.string().min(1),
  /** Absent for a public client (then PKCE is its only proof). */
  client_secret: z.string().min(1).optional(),
  client_auth: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
  /** Scopes asked for on every authorization, besides those each tool declares. */
  scopes: z.array(z.string().regex(/^\S+$/, 'a scope has no spaces')).default([]),
  pkce: z.boolean().default(true),
  /** Extra parameters of the authorization request, e.g. {"access_type": "offline", "prompt": "consent"} for Google. */
  authorization_params: z.record(z.string(), z.string()).default({}),
});
export type ProviderConfig = z.infer<typeof providerSchema>;

export const providersFileSchema = z.object({
  providers: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a provider id is letters, digits, _ . -'), providerSchema),
});

export interface AgentAuthSettings {
  providers: Record<string, ProviderConfig>;
  /** The AES-256-GCM key that seals tokens at rest. */
  key: Buffer;
  /** The redirect URI registered at every provider. */
  callbackUrl: string;
  linkTtlSeconds: number;
}

/** The settings, or undefined when no providers file is configured (Agent Auth is off). */
export function loadAgentAuthSettings(
  config: Pick<
    Config,
    'AGENT_AUTH_PROVIDERS_FILE' | 'AGENT_AUTH_CALLBACK_URL' | 'AGENT_AUTH_LINK_TTL_SECONDS' | 'SECRETS_KEY' | 'HOST' | 'PORT'
  >,
): AgentAuthSettings | undefined {
  const file = config.AGENT_AUTH_PROVIDERS_FILE;
  if (!file) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`AGENT_AUTH_PROVIDERS_FILE ${file} cannot be read as JSON: ${(err as Error).message}`);
  }
  const parsed = providersFileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid AGENT_AUTH_PROVIDERS_FILE ${file}:\n${lines.join('\n')}`);
  }
  // loadConfig has already refused a missing or malformed key.
  const key = config.SECRETS_KEY ? secretsKeyBytes(config.SECRETS_KEY) : null;
  if (!key) throw new Error('SECRETS_KEY (32 bytes, base64 or hex) is required with AGENT_AUTH_PROVIDERS_FILE');
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  return {
    providers: parsed.data.providers,
    key,
    callbackUrl: config.AGENT_AUTH_CALLBACK_URL ?? `http://${host}:${config.PORT}/agent-auth/callback`,
    linkTtlSeconds: config.AGENT_AUTH_LINK_TTL_SECONDS,
  };
}
