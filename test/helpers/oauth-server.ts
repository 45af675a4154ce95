import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';

// A real OAuth 2 authorization server for tests: the certified `oidc-provider` package, listening on 127.0.0.1.
// Only its login page is ours: a test "user" who always signs in as `accountId` and consents to what is asked
// (the provider's own dev pages need a person to fill forms). Everything else is the provider's: the
// authorization endpoint, PKCE, the code exchange, refresh with rotation and reuse detection, revocation, and the
// userinfo endpoint, which is the resource server that checks a token.

export interface OAuthServer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Every access and refresh token the server issued, to search stored data for them. */
  issued: Set<string>;
  /** Refresh-token grants the server answered (successful or not). */
  refreshGrants: number;
  /** Sets the client's redirect URI and starts answering (the API's port is known only after the stack starts). */
  start(redirectUri: string): void;
  /** The account who signs in on the next authorization. */
  accountId: string;
  close(): Promise<void>;
}

export async function listenOAuthServer(o: { accessTokenTtlSeconds: number }): Promise<OAuthServer> {
  let provider: Provider | null = null;
  const server = http.createServer((req, res) => {
    if (!provider) {
      res.writeHead(503).end();
      return;
    }
    if (req.url?.startsWith('/interaction/')) void signIn(provider, req, res, state.accountId);
    else void provider.callback()(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: OAuthServer = {
    issuer,
    clientId: 'agent-runtime',
    clientSecret: 'a-client-secret-of-the-runtime-0123456789',
    issued: new Set(),
    refreshGrants: 0,
    accountId: 'alice',
    start(redirectUri) {
      provider = new Provider(issuer, configuration(state, redirectUri, o.accessTokenTtlSeconds));
      provider.on('access_token.saved', (t) => state.issued.add(t.jti));
      provider.on('refresh_token.saved', (t) => state.issued.add(t.jti));
      provider.on('grant.success', (ctx) => {
        if ((ctx.oidc.params as { grant_type?: string } | undefined)?.grant_type === 'refresh_token') state.refreshGrants++;
      });
      provider.on('grant.error', (ctx) => {
        if ((ctx.oidc.params as { grant_type?: string } | undefined)?.grant_type === 'refresh_token') state.refreshGrants++;
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}

function configuration(s: OAuthServer, redirectUri: string, accessTokenTtl: number): Configuration {
  return {
    clients: [
      {
        client_id: s.clientId,
        client_secret: s.clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, name: `User ${sub}`, email: `${sub}@example.test` }) }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false }, revocation: { enabled: true }, introspection: { enabled: true } },
    // PKCE is required of every client here, so a runtime that forgot it would fail.
    pkce: { required: () => true },
    // A token is refused the moment it expires (the default tolerates 15 s of clock skew).
    clockTolerance: 0,
    ttl: { AccessToken: accessTokenTtl, AuthorizationCode: 60, RefreshToken: 3600, Grant: 3600, Interaction: 600, Session: 3600 },
    // Every refresh rotates the refresh token, and presenting a used one revokes the whole grant: two refreshes that
    // raced with one refresh token would break the connection, which the tests would see.
    rotateRefreshToken: true,
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  };
}

/** The test user signs in and consents to the scopes asked for. */
async function signIn(provider: Provider, req: http.IncomingMessage, res: http.ServerResponse, accountId: string): Promise<void> {
  try {
    const details = await provider.interactionDetails(req, res);
    const params = details.params as { client_id: string; scope?: string };
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    const g = grant ?? new provider.Grant({ accountId, clientId: params.client_id });
    if (params.scope) g.addOIDCScope(params.scope);
    const grantId = await g.save();
    await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
  }
}

/**
 * A browser following the authorization link: redirects are followed with cookies kept, until the provider sends
 * the browser to the runtime's callback, which is then fetched and its response returned.
 */
export async function authorizeInBrowser(authUrl: string, callbackPrefix: string): Promise<{ callback: Response; callbackUrl: string }> {
  const callbackUrl = await redirectBack(authUrl, callbackPrefix);
  return { callback: await fetch(callbackUrl), callbackUrl };
}

/** The URL the provider sends the browser back to, not fetched. */
export async function redirectBack(authUrl: string, callbackPrefix: string): Promise<string> {
  const jar = new Map<string, string>();
  let url = authUrl;
  for (let hop = 0; hop < 20; hop++) {
    if (url.startsWith(callbackPrefix)) return url;
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    const location = res.headers.get('location');
    await res.body?.cancel();
    if (!location) throw new Error(`The authorization stopped at ${url} with ${res.status}`);
    url = new URL(location, url).toString();
  }
  throw new Error('Too many redirects during the authorization');
}
