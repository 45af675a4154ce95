import cors from 'cors';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';

// Which browser pages may call the API: an allowlist (CORS_ORIGINS), else the API's own origin and pages served
// by local dev servers (agent-chat-ui on localhost:3000, a Vite app on :5173...). Any other page gets no CORS
// headers, so its browser refuses to hand it the answers; clients outside browsers send no Origin and are unaffected.

const localDevOrigin = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/** `origins`: exact origins, or `*` for any; undefined: the default policy above. */
export function corsPolicy(origins: string[] | undefined): RequestHandler {
  const allowed = (origin: string, req: IncomingMessage): boolean =>
    sameOrigin(origin, req) || (origins ? origins.includes('*') || origins.includes(origin) : localDevOrigin.test(origin));
  return cors<IncomingMessage>((req, done) =>
    done(null, {
      origin: typeof req.headers.origin === 'string' && allowed(req.headers.origin, req),
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      // Browser UIs read these (pagination, the run a stream belongs to).
      exposedHeaders: ['Content-Location', 'Location', 'X-Pagination-Total', 'X-Pagination-Next'],
    }),
  ) as RequestHandler;
}

/** A page of the API itself (the browser tests' page, a UI served by a reverse proxy on the same host). */
function sameOrigin(origin: string, req: IncomingMessage): boolean {
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** CORS_ORIGINS as a list: comma-separated, blanks dropped. */
export function parseCorsOrigins(value: string | undefined): string[] | undefined {
  const list = value
    ?.split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  return list?.length ? list : undefined;
}
