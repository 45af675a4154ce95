import type { Request } from 'express';
import { Permission } from '../../core/auth/roles.js';
import { requestAuth } from '../auth/context.js';
import { forbidden } from '../errors.js';

// Operator policies are the operator's: with authentication on, reading them takes `policies:write` (or `admin`),
// and so does changing them. Without authentication (loopback or AUTH_DISABLED) the caller is the operator.

export const PolicyPermission = { read: Permission.policiesWrite, write: Permission.policiesWrite } as const;
export type PolicyPermission = (typeof PolicyPermission)[keyof typeof PolicyPermission];

export function requirePermission(req: Request, permission: PolicyPermission): void {
  const auth = requestAuth(req);
  if (!auth) return;
  const held = auth.user.permissions;
  if (!held.includes(permission) && !held.includes(Permission.admin)) throw forbidden(`This route requires the ${permission} permission`);
}
