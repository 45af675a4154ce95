import type { ErrorRequestHandler } from 'express';
import { z } from 'zod';
import type { Logger } from '../config/logger.js';
import { isDatabaseUnavailable } from '../db/errors.js';

// The API's one error class. Codes are a closed set, translated to HTTP statuses here and nowhere else.
// Body: {"error": code, "message": text, "details"?: [{path, message}]}; the SDK shows it as `HTTP <status>: <body>`.

export const ErrorCode = {
  badRequest: 'bad_request',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  invalid: 'invalid_request',
  notFound: 'not_found',
  conflict: 'conflict',
  threadBusy: 'thread_busy',
  tooLarge: 'payload_too_large',
  unavailable: 'unavailable',
  badGateway: 'bad_gateway',
  internal: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const statusOf: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  invalid_request: 422,
  not_found: 404,
  conflict: 409,
  // A busy thread under multitask `reject`: the production (Python) Agent Server answers 409, the JS dev server
  // 422. Clients are written against the production server (the Python SDK raises ConflictError), so 409.
  thread_busy: 409,
  payload_too_large: 413,
  unavailable: 503,
  // A service the server calls on the request's behalf failed (an OAuth provider's token endpoint).
  bad_gateway: 502,
  internal_error: 500,
};

export interface ErrorDetail {
  path: string;
  message: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** Headers the answer carries (an authenticator's `WWW-Authenticate`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get status(): number {
    return statusOf[this.code];
  }

  toJSON() {
    return { error: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export const notFound = (message: string) => new ApiError(ErrorCode.notFound, message);
export const conflict = (message: string) => new ApiError(ErrorCode.conflict, message);
export const forbidden = (message = 'Forbidden') => new ApiError(ErrorCode.forbidden, message);
export const invalid = (message: string, details?: ErrorDetail[]) => new ApiError(ErrorCode.invalid, message, details);

/** A zod failure as a 422 that names every bad field. */
export function fromZod(where: string, err: z.ZodError): ApiError {
  const details = err.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
  return invalid(`Invalid ${where}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}

/** Express's body parser errors arrive with a `type`; everything unknown is a real fault (500) and is logged. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const apiError = toApiError(err);
    if (apiError.code === ErrorCode.internal) log.error('request failed', { method: req.method, path: req.path, err });
    if (res.headersSent) {
      res.end();
      return;
    }
    if (apiError.code === ErrorCode.unavailable) res.setHeader('Retry-After', '5');
    for (const [name, value] of Object.entries(apiError.headers)) res.setHeader(name, value);
    res.status(apiError.status).json(apiError.toJSON());
  };
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const type = (err as { type?: string } | null)?.type;
  if (type === 'entity.parse.failed') return new ApiError(ErrorCode.badRequest, `Malformed JSON body: ${(err as Error).message}`);
  if (type === 'entity.too.large') return new ApiError(ErrorCode.tooLarge, 'Request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return new ApiError(ErrorCode.badRequest, (err as Error).message);
  if (err instanceof SyntaxError && 'body' in err) return new ApiError(ErrorCode.badRequest, `Malformed JSON body: ${err.message}`);
  // Express fails to decode a path like /assistants/%E0%A4%A before any route runs.
  if (err instanceof URIError) return new ApiError(ErrorCode.badRequest, `Malformed URL: ${err.message}`);
  if (isDatabaseUnavailable(err)) return new ApiError(ErrorCode.unavailable, 'The database is unavailable; retry shortly.');
  const refused = refusedValue(err);
  if (refused) return invalid(`A value in the request cannot be stored: ${refused}`);
  return new ApiError(ErrorCode.internal, 'Internal server error');
}

/**
 * PostgreSQL refuses some values the API schemas let through (an interval or number out of its range, an
 * over-long index entry): SQLSTATE classes 22 (data exception) and 54 (program limit exceeded). That is bad
 * input, not a fault, and a 5xx would make the SDK send it again.
 */
function refusedValue(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^(22|54)[0-9A-Z]{3}$/.test(code)) return null;
  return (err as Error).message;
}
