import type { Interrupt, ThreadHead } from './head.js';
import { isRecord } from './messages.js';

// Agent Auth's rules: when a tool's call needs the user to authorize it first, what the interrupt that asks for it
// says, and which pending interrupt a completed authorization answers. No I/O: activities and the API apply them.

/** What a tool declares in `defineTool({ auth })`: it acts at `provider` on behalf of the run's user. */
export interface ToolAuth {
  provider: string;
  scopes?: string[];
}

/** What is known about a stored token without opening it. Times in epoch milliseconds. */
export interface StoredGrant {
  /** The scopes the user was asked for when they authorized. */
  scopes: string[];
  expiresAt: number | null;
  /** When the current access token was issued. */
  issuedAt: number;
  refreshable: boolean;
}

export const TokenNeed = { valid: 'valid', refresh: 'refresh', authorize: 'authorize' } as const;
export type TokenNeed = (typeof TokenNeed)[keyof typeof TokenNeed];

/**
 * A token counts as expired a little before it is (a tenth of its lifetime, at most 30 s), so a call made with it
 * does not fail on the way. Scopes are compared with those asked for rather than those a provider says it granted:
 * providers rename and drop scopes in their answers, and comparing with those would ask the user again forever.
 */
export function tokenNeed(stored: StoredGrant | undefined, scopes: readonly string[], now: number): TokenNeed {
  if (!stored || !scopes.every((s) => stored.scopes.includes(s))) return TokenNeed.authorize;
  if (stored.expiresAt === null) return TokenNeed.valid;
  const margin = Math.min(30_000, Math.max(0, stored.expiresAt - stored.issuedAt) / 10);
  if (now < stored.expiresAt - margin) return TokenNeed.valid;
  return stored.refreshable ? TokenNeed.refresh : TokenNeed.authorize;
}

/** Scopes in first-seen order, without repeats. */
export const scopeUnion = (...lists: readonly (readonly string[] | undefined)[]): string[] => [...new Set(lists.flatMap((l) => l ?? []))];

/** The payload of the thread's interrupt when the user must authorize: a UI shows `auth_url` as a link. */
export interface AuthRequired {
  type: 'auth_required';
  provider: string;
  auth_url: string;
  scopes: string[];
  message: string;
}

export function authRequired(provider: string, authUrl: string, scopes: string[]): AuthRequired {
  // The message is the one LangSmith's Agent Auth interrupts with, so UIs built for it read ours.
  return {
    type: 'auth_required',
    provider,
    auth_url: authUrl,
    scopes,
    message: `OAuth authentication required for provider '${provider}'.`,
  };
}

export function isAuthRequired(value: unknown): value is AuthRequired {
  return isRecord(value) && value.type === 'auth_required' && typeof value.provider === 'string' && typeof value.auth_url === 'string';
}

/** The resume value the callback answers the interrupt with. The call runs again and finds the token. */
export const authCompleted = (provider: string) => ({ type: 'auth_completed', provider });

/** The pending auth interrupt of a tool call's task, if the thread still waits on it for this provider. */
export function pendingAuthInterrupt(head: ThreadHead, taskId: string, provider: string): Interrupt | undefined {
  const task = head.tasks.find((t) => t.id === taskId && !t.done);
  const interrupt = task?.interrupts[0];
  return interrupt && isAuthRequired(interrupt.value) && interrupt.value.provider === provider ? interrupt : undefined;
}
