import type { Request } from 'express';
import { z } from 'zod';
import { requestAuth } from '../auth/context.js';
import { fromZod } from '../errors.js';

// Whose connections a request reads or revokes.

const namedUser = z.object({ user_id: z.string().trim().min(1, 'name the user whose connections these are') });

/**
 * The caller's identity. With authentication, the authenticated identity only (a `user_id` parameter is ignored).
 * Without it (loopback or AUTH_DISABLED), the caller names the user in the `user_id` query parameter, as runs
 * name theirs in `configurable.user_id`.
 */
export function requestUser(req: Request): string {
  return requestAuth(req)?.user.identity ?? userNamedInQuery(req);
}

function userNamedInQuery(req: Request): string {
  const parsed = namedUser.safeParse(req.query);
  if (!parsed.success) throw fromZod('query', parsed.error);
  return parsed.data.user_id;
}
