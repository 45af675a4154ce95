import { isIP } from 'node:net';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../config/logger.js';
import { builtinAuth } from './builtin.js';
import { loadCustomAuth } from './custom.js';
import type { AuthService } from './types.js';

// Which authenticator the configuration names, and the closed-by-default rule: with none, the API serves only
// this machine (a loopback HOST) unless AUTH_DISABLED says otherwise, and then it says so at every start.

type AuthConfig = Pick<
  Config,
  | 'AUTH_PATH'
  | 'AUTH_API_KEYS_FILE'
  | 'AUTH_JWT_JWKS_URL'
  | 'AUTH_JWT_ISSUER'
  | 'AUTH_JWT_AUDIENCE'
  | 'AUTH_JWT_PERMISSIONS_CLAIM'
  | 'AUTH_FAIL_OPEN'
  | 'AUTH_DISABLED'
  | 'HOST'
>;

export async function authFromConfig(config: AuthConfig, log: Logger): Promise<AuthService | undefined> {
  const auth = await loadAuth(config);
  if (auth?.kind === 'custom') {
    const open = auth.uncovered();
    if (open.length && config.AUTH_FAIL_OPEN)
      log.warn('AUTH_FAIL_OPEN: these (resource:action) pairs have no handler and are ALLOWED to every authenticated user', { open });
    else if (open.length) log.info('custom auth: these (resource:action) pairs have no handler and are denied (403)', { denied: open });
  }
  if (!auth) refuseOpenServer(config, log);
  return auth;
}

async function loadAuth(config: AuthConfig): Promise<AuthService | undefined> {
  if (config.AUTH_PATH) return loadCustomAuth(config.AUTH_PATH, config.AUTH_FAIL_OPEN);
  if (!config.AUTH_API_KEYS_FILE && !config.AUTH_JWT_JWKS_URL) return undefined;
  return builtinAuth({
    apiKeysFile: config.AUTH_API_KEYS_FILE,
    jwt: config.AUTH_JWT_JWKS_URL
      ? {
          jwksUrl: config.AUTH_JWT_JWKS_URL,
          issuer: config.AUTH_JWT_ISSUER,
          audience: config.AUTH_JWT_AUDIENCE,
          permissionsClaim: config.AUTH_JWT_PERMISSIONS_CLAIM,
        }
      : undefined,
  });
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
}

function refuseOpenServer(config: AuthConfig, log: Logger): void {
  if (config.AUTH_DISABLED) {
    log.warn('AUTH_DISABLED: the API has no authentication; anyone who reaches it can read, change and delete everything', {
      host: config.HOST,
    });
    return;
  }
  if (!isLoopbackHost(config.HOST))
    throw new Error(
      `No authentication is configured and HOST=${config.HOST} is not a loopback address. Configure AUTH_PATH, ` +
        'AUTH_API_KEYS_FILE or AUTH_JWT_JWKS_URL, listen on 127.0.0.1, or set AUTH_DISABLED=true to serve without authentication.',
    );
}
