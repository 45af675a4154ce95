import type { Request } from 'express';
import { z } from 'zod';
import { fromZod } from '../errors.js';

// Whose connections a request reads or revokes.

const namedUser = z.object({ user_id: z.string().trim().min(1, 'name the user whose connections these are') });

/**
 * The caller's identity. Pre-auth fallback: the caller names the user in the `user_id` query parameter, as runs
 * name theirs in `configurable.user_id` (so anyone who reaches the API can act as anyone, as with runs). With
 * authentication, this returns the authenticated identity instead; the one line below is the seam.
 */
export function requestUser(req: Request): string {
  return userNamedInQuery(req);
}

function userNamedInQuery(req: Request): string {
  const parsed = namedUser.safeParse(req.query);
  if (!parsed.success) throw fromZod('query', parsed.error);
  return parsed.data.user_id;
}
