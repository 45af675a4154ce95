import { describe, expect, it } from 'vitest';
import { detect, luhnValid, piiOptionsSchema, PiiDetectionError, redactText } from '../../activities/middleware/pii.js';

// PII detectors and strategies: what each built-in type finds, and what each strategy writes in its place.

const opts = (piiType: string, extra: Record<string, unknown> = {}) => piiOptionsSchema.parse({ piiType, ...extra });

describe('pii detectors', () => {
  it.each([
    ['email', 'write to ann.lee+x@mail.example.co.uk today', 'ann.lee+x@mail.example.co.uk'],
    ['credit_card', 'card 4111-1111-1111-1111 ok', '4111-1111-1111-1111'],
    ['ip', 'from 192.168.10.254 via', '192.168.10.254'],
    ['mac_address', 'nic 00:1A:2b:3C:4d:5E up', '00:1A:2b:3C:4d:5E'],
    ['url', 'see https://example.com/a?b=c.', 'https://example.com/a?b=c.'],
    ['phone', 'call +1 415-555-0132 now', '+1 415-555-0132'],
  ])('%s finds its kind', (type, text, found) => {
    expect(detect(opts(type), text).map((m) => m.text)).toEqual([found]);
  });

  it('leaves look-alikes alone', () => {
    expect(detect(opts('credit_card'), 'order 1234 5678 9012 3456')).toEqual([]);
    expect(detect(opts('ip'), 'version 999.1.2.3')).toEqual([]);
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });

  it('takes a custom detector', () => {
    const o = opts('employee_id', { detector: 'EMP-\\d{5}' });
    expect(redactText(o, 'ask EMP-12345').text).toBe('ask [REDACTED_EMPLOYEE_ID]');
    expect(piiOptionsSchema.safeParse({ piiType: 'employee_id' }).success).toBe(false);
    expect(piiOptionsSchema.safeParse({ piiType: 'x', detector: '(' }).success).toBe(false);
  });
});

describe('pii strategies', () => {
  const text = 'mail bob@example.com';
  it('redacts, masks, hashes (stably) or blocks', () => {
    expect(redactText(opts('email'), text)).toEqual({ text: 'mail [REDACTED_EMAIL]', count: 1 });
    expect(redactText(opts('email', { strategy: 'mask' }), text).text).toBe('mail b**@example.com');
    const hashed = redactText(opts('email', { strategy: 'hash' }), text).text;
    expect(hashed).toMatch(/^mail <email_hash:[0-9a-f]{8}>$/);
    expect(redactText(opts('email', { strategy: 'hash' }), text).text).toBe(hashed);
    expect(redactText(opts('credit_card', { strategy: 'mask' }), '4111 1111 1111 1111').text).toMatch(/^\*+1111$/);
    expect(() => redactText(opts('email', { strategy: 'block' }), text)).toThrow(PiiDetectionError);
    expect(redactText(opts('email', { strategy: 'block' }), 'nothing here').count).toBe(0);
  });
});
