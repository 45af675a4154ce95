import { describe, expect, it } from 'vitest';
import { authFromConfig, isLoopbackHost } from '../api/auth/load.js';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../config/logger.js';

// Closed by default: without an authenticator the server serves only loopback, unless AUTH_DISABLED says so.

function capture() {
  const lines: { level: string; msg: string }[] = [];
  const log = createLogger('debug', { component: 'test' });
  for (const level of ['info', 'warn', 'error'] as const) log[level] = (msg: string) => void lines.push({ level, msg });
  return { log, lines };
}

describe('closed by default', () => {
  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('refuses a public address without an authenticator, and warns at every start with AUTH_DISABLED', async () => {
    const { log, lines } = capture();
    await expect(authFromConfig(loadConfig({ HOST: '0.0.0.0' }), log)).rejects.toThrow(/AUTH_DISABLED/);
    expect(await authFromConfig(loadConfig({ HOST: '127.0.0.1' }), log)).toBeUndefined();
    expect(lines).toEqual([]);
    expect(await authFromConfig(loadConfig({ HOST: '0.0.0.0', AUTH_DISABLED: 'true' }), log)).toBeUndefined();
    expect(lines.filter((l) => l.level === 'warn' && /AUTH_DISABLED/.test(l.msg))).toHaveLength(1);
  });

  it('logs what a custom module leaves open under AUTH_FAIL_OPEN, and refuses custom plus built-in', async () => {
    const { log, lines } = capture();
    const auth = await authFromConfig(
      loadConfig({ HOST: '0.0.0.0', AUTH_PATH: 'test/fixtures/auth/module.ts:threadsOnly', AUTH_FAIL_OPEN: 'true' }),
      log,
    );
    expect(auth?.uncovered()).toContain('store:put');
    expect(lines.some((l) => l.level === 'warn' && /AUTH_FAIL_OPEN/.test(l.msg))).toBe(true);
    expect(() => loadConfig({ AUTH_PATH: 'x.ts:auth', AUTH_API_KEYS_FILE: 'keys.json' })).toThrow(/AUTH_PATH/);
  });
});
