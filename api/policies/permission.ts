import type { Request } from 'express';

// The seam where multi-tenant authorization plugs in. Every operator-only route calls requirePermission with the
// permission it needs; once auth lands, this checks the caller's permissions (and throws a 403) in one place.
// Until then the server has a single tenant, and every caller is its operator.

export const Permission = { policiesRead: 'policies:read', policiesWrite: 'policies:write' } as const;
export type Permission = (typeof Permission)[keyof typeof Permission];

export function requirePermission(_req: Request, _permission: Permission): void {
  // Single-tenant: allowed. Multi-tenancy replaces this body with a check of the authenticated user's permissions.
}
