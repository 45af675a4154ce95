import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { builtinDecision } from '../../core/auth/roles.js';
import { ApiError, ErrorCode } from '../errors.js';
import type { AuthService, AuthUser } from './types.js';

// Authenticators for deployments that write no code: API keys (stored only as SHA-256 digests) and JWTs verified
// against a JWKS. Authorization is then owner isolation plus the operator roles (core/auth/roles.ts).

const keysFileSchema = z.record(
  z.string().regex(/^[0-9a-f]{64}$/i, 'keys of the file are SHA-256 hex digests of the API keys, never the keys'),
  z.object({ identity: z.string().min(1), permissions: z.array(z.string()).default([]), display_name: z.string().optional() }),
);

export interface BuiltinAuthSettings {
  apiKeysFile?: string | undefined;
  jwt?: { jwksUrl: string; issuer?: string | undefined; audience?: string | undefined; permissionsClaim: string } | undefined;
}

const unauthorized = (message: string) => new ApiError(ErrorCode.unauthorized, message, undefined, { 'WWW-Authenticate': 'Bearer' });

export const sha256Hex = (key: string) => createHash('sha256').update(key).digest('hex');

export function builtinAuth(s: BuiltinAuthSettings): AuthService {
  const keys = s.apiKeysFile ? loadKeys(s.apiKeysFile) : null;
  const jwt = s.jwt ? jwtVerifier(s.jwt) : null;
  return {
    kind: 'builtin',
    async authenticate(request) {
      const header = request.headers.get('authorization');
      const bearer = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
      const apiKey = request.headers.get('x-api-key') ?? undefined;
      // A bearer token with three dot-separated parts is a JWT; anything else is an API key.
      if (jwt && bearer && bearer.split('.').length === 3) return jwt(bearer);
      const key = apiKey ?? bearer;
      if (keys && key) {
        const user = keys.get(sha256Hex(key));
        if (user) return user;
        throw unauthorized('Invalid API key');
      }
      throw unauthorized(jwt ? 'A bearer token is required' : 'An API key is required (x-api-key or Authorization: Bearer)');
    },
    decide: (user: AuthUser, resource, action, value) =>
      Promise.resolve(builtinDecision({ resource, action, value, identity: user.identity, permissions: user.permissions })),
    uncovered: () => [],
  };
}

function loadKeys(file: string): Map<string, AuthUser> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`AUTH_API_KEYS_FILE ${file} cannot be read as JSON: ${(err as Error).message}`);
  }
  const parsed = keysFileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`Invalid AUTH_API_KEYS_FILE ${file}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return new Map(
    Object.entries(parsed.data).map(([hash, u]) => [
      hash.toLowerCase(),
      { identity: u.identity, display_name: u.display_name ?? u.identity, permissions: u.permissions, is_authenticated: true },
    ]),
  );
}

function jwtVerifier(o: NonNullable<BuiltinAuthSettings['jwt']>): (token: string) => Promise<AuthUser> {
  const jwks = createRemoteJWKSet(new URL(o.jwksUrl));
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        ...(o.issuer ? { issuer: o.issuer } : {}),
        ...(o.audience ? { audience: o.audience } : {}),
      }));
    } catch (err) {
      // An unreachable JWKS is the server's trouble, not the caller's.
      if (err instanceof joseErrors.JWKSTimeout || (err instanceof Error && err.name === 'TypeError'))
        throw new ApiError(ErrorCode.unavailable, 'The JWKS that verifies tokens is unreachable');
      throw unauthorized(`Invalid token: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (typeof payload.sub !== 'string' || !payload.sub) throw unauthorized('The token has no subject (sub)');
    const permissions = [...claimList(payload[o.permissionsClaim]), ...claimList(payload.scope)];
    const name = typeof payload.name === 'string' ? payload.name : payload.sub;
    return { identity: payload.sub, display_name: name, permissions: [...new Set(permissions)], is_authenticated: true };
  };
}

function claimList(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'string') return v.split(/\s+/).filter(Boolean);
  return [];
}
