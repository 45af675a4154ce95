import { z } from 'zod';

// Agent Auth's routes: the OAuth callback and a user's connections. Tokens never appear in any of them.

/** What the provider appends to the redirect URI; every parameter is kept, as the code exchange checks them all. */
export const callbackQuery = z
  .object({
    state: z.string().min(1).max(512),
    code: z.string().max(4096).optional(),
    error: z.string().max(256).optional(),
    error_description: z.string().max(4096).optional(),
    iss: z.string().max(2048).optional(),
  })
  .catchall(z.string().max(4096));

export const callbackResponse = z.object({
  status: z.literal('connected'),
  provider: z.string(),
  thread_id: z.string(),
  /** The run that resumed the waiting tool call; null when the thread was no longer waiting for this authorization. */
  run_id: z.string().nullable(),
});

/** The pre-auth fallback of requestUser (user.ts): documented here so the OpenAPI document shows it. */
export const connectionsQuery = z.object({
  user_id: z.string().optional().describe('The user whose connections these are, until authentication names the caller'),
});

export const revokeQuery = connectionsQuery.extend({
  provider: z.string().min(1).optional().describe('The provider to disconnect; all of them when absent'),
});

export const connection = z.object({
  provider: z.string(),
  scopes: z.array(z.string()).describe('Scopes the user was asked to grant'),
  granted_scopes: z.array(z.string()).nullable().describe('Scopes the provider said it granted, when it said'),
  refreshable: z.boolean(),
  expires_at: z.string().nullable().describe('When the current access token expires (it is refreshed on use)'),
  created_at: z.string(),
  updated_at: z.string(),
});
