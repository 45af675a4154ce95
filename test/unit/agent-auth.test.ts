import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { open, seal } from '../../activities/agent-auth.js';
import { loadAgentAuthSettings } from '../../config/agent-auth.js';
import { loadConfig } from '../../config/index.js';
import { authRequired, isAuthRequired, pendingAuthInterrupt, scopeUnion, tokenNeed, type StoredGrant } from '../../core/agent-auth.js';
import type { HeadTask, ThreadHead } from '../../core/head.js';

// Agent Auth's rules without I/O: when a token is valid, due for refresh or missing; which interrupt a callback
// answers; the sealing of tokens; and the configuration that refuses to store tokens without a key.

describe('tokenNeed', () => {
  const grant = (o: Partial<StoredGrant> = {}): StoredGrant => ({
    scopes: ['read', 'write'],
    issuedAt: 0,
    expiresAt: 3_600_000,
    refreshable: true,
    ...o,
  });

  it('asks the user to authorize when nothing is stored, or when a scope was never asked for', () => {
    expect(tokenNeed(undefined, [], 0)).toBe('authorize');
    expect(tokenNeed(grant(), ['read', 'admin'], 0)).toBe('authorize');
  });

  it('uses a token until shortly before it expires (a tenth of its lifetime, at most 30 s), then refreshes it', () => {
    expect(tokenNeed(grant(), ['read'], 3_569_999)).toBe('valid');
    expect(tokenNeed(grant(), ['read'], 3_570_000)).toBe('refresh');
    const short = grant({ expiresAt: 6_000 });
    expect(tokenNeed(short, ['read'], 5_399)).toBe('valid');
    expect(tokenNeed(short, ['read'], 5_400)).toBe('refresh');
  });

  it('asks again for an expired token without a refresh token; a token without expiry stays valid', () => {
    expect(tokenNeed(grant({ refreshable: false }), [], 4_000_000)).toBe('authorize');
    expect(tokenNeed(grant({ expiresAt: null }), ['write'], Number.MAX_SAFE_INTEGER)).toBe('valid');
  });
});

describe('auth interrupts', () => {
  const value = authRequired('github', 'https://github.com/login/oauth/authorize?state=s', ['repo']);
  const task = (o: Partial<HeadTask>): HeadTask => ({ id: 't1', name: 'tools', interrupts: [], done: false, ...o });
  const head = (tasks: HeadTask[]): ThreadHead => ({ checkpointId: 'c', step: 1, next: ['tools'], tasks });

  it('says what a UI shows: the provider and the link', () => {
    expect(value).toMatchObject({ type: 'auth_required', provider: 'github', auth_url: expect.stringContaining('state=s') });
    expect(isAuthRequired(value)).toBe(true);
    expect(isAuthRequired({ question: 'ok?' })).toBe(false);
  });

  it('finds the pending auth interrupt of the waiting call, and nothing once it was answered', () => {
    const waiting = task({ interrupts: [{ id: 'i1', value }] });
    expect(pendingAuthInterrupt(head([waiting]), 't1', 'github')?.id).toBe('i1');
    expect(pendingAuthInterrupt(head([waiting]), 't1', 'google')).toBeUndefined();
    expect(pendingAuthInterrupt(head([{ ...waiting, done: true }]), 't1', 'github')).toBeUndefined();
    expect(pendingAuthInterrupt(head([task({ interrupts: [{ id: 'i2', value: { question: 'ok?' } }] })]), 't1', 'github')).toBeUndefined();
  });

  it('merges scopes without repeats', () => {
    expect(scopeUnion(['openid'], undefined, ['profile', 'openid'])).toEqual(['openid', 'profile']);
  });
});

describe('sealing', () => {
  const key = randomBytes(32);

  it('round-trips, differs each time, and opens only with its key and its binding', () => {
    const a = seal(key, 'secret-token', 'user-a');
    expect(a).not.toContain('secret-token');
    expect(seal(key, 'secret-token', 'user-a')).not.toBe(a);
    expect(open(key, a, 'user-a')).toBe('secret-token');
    expect(() => open(key, a, 'user-b')).toThrow(/cannot be opened/);
    expect(() => open(randomBytes(32), a, 'user-a')).toThrow(/cannot be opened/);
    const [version, iv, tag, data] = a.split('.');
    const flipped = Buffer.from(data!, 'base64url').map((b, i) => (i === 0 ? b ^ 1 : b));
    const tampered = [version, iv, tag, Buffer.from(flipped).toString('base64url')].join('.');
    expect(() => open(key, tampered, 'user-a')).toThrow(/cannot be opened/);
  });
});

describe('configuration', () => {
  const providersFile = (providers: object) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'agent-auth-unit-')), 'providers.json');
    writeFileSync(file, JSON.stringify({ providers }));
    return file;
  };
  const provider = { authorization_url: 'https://idp.example/authorize', token_url: 'https://idp.example/token', client_id: 'c' };

  it('refuses to start with providers but no key, or with a key that is not 32 bytes', () => {
    const file = providersFile({ idp: provider });
    expect(() => loadConfig({ AGENT_AUTH_PROVIDERS_FILE: file })).toThrow(/SECRETS_KEY: is required/);
    expect(() => loadConfig({ AGENT_AUTH_PROVIDERS_FILE: file, SECRETS_KEY: 'too-short' })).toThrow(/SECRETS_KEY: must be 32 bytes/);
    expect(loadConfig({ AGENT_AUTH_PROVIDERS_FILE: file, SECRETS_KEY: randomBytes(32).toString('hex') }).SECRETS_KEY).toHaveLength(64);
  });

  it('reads providers with their defaults, and the callback URL from HOST and PORT unless given', () => {
    const config = loadConfig({
      AGENT_AUTH_PROVIDERS_FILE: providersFile({ idp: provider }),
      SECRETS_KEY: randomBytes(32).toString('base64'),
    });
    const settings = loadAgentAuthSettings(config)!;
    expect(settings.providers.idp).toMatchObject({ pkce: true, scopes: [], client_auth: 'client_secret_basic' });
    expect(settings.callbackUrl).toBe('http://127.0.0.1:2024/agent-auth/callback');
    expect(settings.key).toHaveLength(32);
    expect(loadAgentAuthSettings(loadConfig({}))).toBeUndefined();
  });

  it('refuses plain http to a provider that is not on this machine', () => {
    const file = providersFile({ idp: { ...provider, token_url: 'http://idp.example/token' } });
    const config = loadConfig({ AGENT_AUTH_PROVIDERS_FILE: file, SECRETS_KEY: randomBytes(32).toString('base64') });
    expect(() => loadAgentAuthSettings(config)).toThrow(/providers\.idp\.token_url: must be https/);
  });
});
