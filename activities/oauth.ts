import * as oidc from 'openid-client';
import type { ProviderConfig } from '../config/agent-auth.js';

// The OAuth 2 client side of Agent Auth, on openid-client (the certified relying-party library): authorization
// links with PKCE, the code exchange, refresh and revocation. Its errors never carry a token or a response body:
// only the provider, the OAuth error code and the HTTP status, so they are safe to log and to show a model.

export interface TokenSet {
  access_token: string;
  token_type?: string;
  refresh_token?: string;
  expires_in?: number;
  scope?: string;
}

export class OAuthError extends Error {
  override name = 'OAuthError';
  constructor(
    readonly provider: string,
    /** The provider's OAuth error code (`invalid_grant`, `access_denied`, ...), or `unreachable`. */
    readonly code: string,
    readonly status?: number,
  ) {
    super(`OAuth provider ${provider} answered ${code}${status ? ` (HTTP ${status})` : ''}`);
  }
}

export interface OAuthClient {
  authorizationUrl(a: { redirectUri: string; scopes: string[]; state: string; verifier: string | null }): Promise<string>;
  /** The code exchange, from the URL the provider sent the browser back to. */
  exchange(callbackUrl: URL, a: { state: string; verifier: string | null }): Promise<TokenSet>;
  refresh(refreshToken: string): Promise<TokenSet>;
  /** Revokes a token at the provider, when it has a revocation endpoint; false when it has none. */
  revoke(token: string, hint: 'access_token' | 'refresh_token'): Promise<boolean>;
}

const TIMEOUT_SECONDS = 15;

export function createOAuthClient(id: string, p: ProviderConfig): OAuthClient {
  const server: oidc.ServerMetadata = {
    issuer: p.issuer ?? new URL(p.authorization_url).origin,
    authorization_endpoint: p.authorization_url,
    token_endpoint: p.token_url,
    ...(p.revocation_url ? { revocation_endpoint: p.revocation_url } : {}),
  };
  const auth = !p.client_secret
    ? oidc.None()
    : p.client_auth === 'client_secret_post'
      ? oidc.ClientSecretPost(p.client_secret)
      : oidc.ClientSecretBasic(p.client_secret);
  const config = new oidc.Configuration(server, p.client_id, p.client_secret ? { client_secret: p.client_secret } : undefined, auth);
  config.timeout = TIMEOUT_SECONDS;
  // The providers file accepts http only for loopback hosts (config/agent-auth.ts).
  if ([p.authorization_url, p.token_url, p.revocation_url].some((u) => u?.startsWith('http://'))) oidc.allowInsecureRequests(config);
  const guard = <T>(fn: () => Promise<T>) => fn().catch((err: unknown) => Promise.reject(sanitize(id, err)));

  return {
    async authorizationUrl({ redirectUri, scopes, state, verifier }) {
      const params: Record<string, string> = { ...p.authorization_params, redirect_uri: redirectUri, state };
      if (scopes.length) params.scope = scopes.join(' ');
      if (verifier)
        Object.assign(params, { code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
      return oidc.buildAuthorizationUrl(config, params).toString();
    },
    exchange: (callbackUrl, { state, verifier }) =>
      guard(async () =>
        tokenSet(
          await oidc.authorizationCodeGrant(config, callbackUrl, {
            expectedState: state,
            ...(verifier ? { pkceCodeVerifier: verifier } : {}),
          }),
        ),
      ),
    refresh: (refreshToken) => guard(async () => tokenSet(await oidc.refreshTokenGrant(config, refreshToken))),
    revoke: (token, hint) =>
      guard(async () => {
        if (!p.revocation_url) return false;
        await oidc.tokenRevocation(config, token, { token_type_hint: hint });
        return true;
      }),
  };
}

/** Only what the runtime keeps: an ID token, if any, is not needed to act on the user's behalf. */
function tokenSet(r: oidc.TokenEndpointResponse): TokenSet {
  return {
    access_token: r.access_token,
    token_type: r.token_type,
    ...(r.refresh_token ? { refresh_token: r.refresh_token } : {}),
    ...(typeof r.expires_in === 'number' ? { expires_in: r.expires_in } : {}),
    ...(r.scope ? { scope: r.scope } : {}),
  };
}

/** openid-client's errors keep the response (and the request) as their cause: only the code and status leave here. */
function sanitize(provider: string, err: unknown): OAuthError {
  if (err instanceof oidc.ResponseBodyError) return new OAuthError(provider, err.error, err.status);
  if (err instanceof oidc.AuthorizationResponseError) return new OAuthError(provider, err.error);
  if (err instanceof oidc.WWWAuthenticateChallengeError) return new OAuthError(provider, 'invalid_client', err.status);
  const code = (err as { code?: unknown } | null)?.code;
  return new OAuthError(provider, typeof code === 'string' && code.startsWith('OAUTH_') ? code.toLowerCase() : 'unreachable');
}
