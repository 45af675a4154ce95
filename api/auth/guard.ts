import type { Request } from 'express';
import { matchesFilter, type AuthFilter } from '../../core/auth/filter.js';
import { insertAudit } from '../../db/audit.js';
import { ApiError, forbidden } from '../errors.js';
import type { RequestAuth } from './context.js';

// The one point where a route asks a handler and applies its answer: 403 when forbidden, the record hidden (404,
// or 409 for create and copy conflicts) when it fails the filter, and an audit entry when a role let an operator
// act on what is not theirs.

export class Guard {
  constructor(
    readonly req: Request,
    readonly auth: RequestAuth,
  ) {}

  get deps() {
    return this.auth.deps;
  }

  /** The filter of the handler for (resource, action); a denial is a 403. */
  async decide(
    resource: string,
    action: string,
    value: Record<string, unknown>,
    id: string | null = null,
  ): Promise<AuthFilter | undefined> {
    const d = await this.auth.service.decide(this.auth.user, resource, action, value);
    if (!d.allow) throw forbidden();
    if (d.audit === true) await this.audit(resource, action, id);
    return d.filter;
  }

  /**
   * Checks an existing record: `metadata` undefined means there is none (the route answers its own 404). A record
   * that fails the filter is `hidden()`; one that only a role reveals is audited.
   */
  async record(
    resource: string,
    action: string,
    value: Record<string, unknown>,
    id: string,
    metadata: Record<string, unknown> | undefined,
    hidden: () => ApiError,
  ): Promise<void> {
    const d = await this.auth.service.decide(this.auth.user, resource, action, value);
    if (!d.allow) throw forbidden();
    if (metadata === undefined) return;
    if (!matchesFilter(d.filter, metadata)) throw hidden();
    if (d.audit === true || (d.audit && !matchesFilter(d.audit, metadata))) await this.audit(resource, action, id);
  }

  async audit(resource: string, action: string, id: string | null): Promise<void> {
    await insertAudit(this.deps.db, {
      actor: this.auth.user.identity,
      permissions: this.auth.user.permissions,
      action,
      resource,
      resource_id: id,
      method: this.req.method,
      path: this.req.path,
      request_id: this.auth.requestId,
    });
  }
}
