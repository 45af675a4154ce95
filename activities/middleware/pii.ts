import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Message, MessageContent } from '../../core/messages.js';
import { FailureType } from '../../core/failures.js';
import { MiddlewareError } from '../../core/middleware/define.js';

// PII detection and the four strategies of LangChain's PII middleware, plus `phone`. Pure: the API applies it to a
// run's input before the request is stored, the activities to model output and tool results before they are
// committed or streamed. Not imported by workflows (node:crypto).

export const PiiType = {
  email: 'email',
  creditCard: 'credit_card',
  ip: 'ip',
  macAddress: 'mac_address',
  url: 'url',
  phone: 'phone',
} as const;
export type PiiType = (typeof PiiType)[keyof typeof PiiType];

const patterns: Record<PiiType, RegExp> = {
  email: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g,
  credit_card: /\b(?:\d[ -]?){12,18}\d\b/g,
  ip: /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g,
  mac_address: /\b[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}\b/g,
  url: /\bhttps?:\/\/[^\s<>"')\]]+/g,
  phone: /(?<![\w-])\+?\d{1,3}?[ .-]?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}(?![\w-])/g,
};

/** Card numbers pass the Luhn checksum; other digit runs of that length (order ids) are left alone. */
export function luhnValid(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

export const piiOptionsSchema = z
  .object({
    piiType: z.string().min(1).describe('email, credit_card, ip, mac_address, url, phone, or the name of a custom detector'),
    detector: z.string().min(1).optional().describe('A regular expression: makes piiType a custom detector'),
    strategy: z.enum(['redact', 'mask', 'hash', 'block']).default('redact'),
    applyToInput: z.boolean().default(true),
    applyToOutput: z.boolean().default(false),
    applyToToolResults: z.boolean().default(false),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (!o.detector && !Object.values(PiiType).includes(o.piiType as PiiType))
      ctx.addIssue({ code: 'custom', message: `piiType must be one of ${Object.values(PiiType).join(', ')}, or come with a detector` });
    if (o.detector) {
      try {
        new RegExp(o.detector, 'g');
      } catch {
        ctx.addIssue({ code: 'custom', message: 'detector must be a valid regular expression' });
      }
    }
  });
export type PiiOptions = z.infer<typeof piiOptionsSchema>;

/** Raised by the `block` strategy: the run fails instead of storing or sending the value. */
export class PiiDetectionError extends MiddlewareError {
  constructor(readonly piiType: string) {
    super(FailureType.piiDetected, `PII of type ${piiType} detected; the configured strategy blocks it.`);
  }
}

export interface PiiMatch {
  text: string;
  start: number;
  end: number;
}

export function detect(o: PiiOptions, text: string): PiiMatch[] {
  const re = o.detector ? new RegExp(o.detector, 'g') : new RegExp(patterns[o.piiType as PiiType]);
  const out: PiiMatch[] = [];
  for (const m of text.matchAll(re)) {
    if (!m[0]) continue;
    if (o.piiType === PiiType.creditCard && !o.detector && !luhnValid(m[0])) continue;
    out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  }
  return out;
}

function replacement(o: PiiOptions, value: string): string {
  const type = o.piiType.toUpperCase();
  if (o.strategy === 'hash') return `<${o.piiType}_hash:${createHash('sha256').update(value).digest('hex').slice(0, 8)}>`;
  if (o.strategy === 'mask') {
    if (o.piiType === PiiType.email) {
      const [local, domain] = value.split('@') as [string, string];
      return `${local[0]}${'*'.repeat(Math.max(local.length - 1, 1))}@${domain}`;
    }
    const keep = value.replace(/[^A-Za-z0-9]/g, '').slice(-4);
    return `${'*'.repeat(Math.max(value.length - keep.length, 4))}${keep}`;
  }
  return `[REDACTED_${type}]`;
}

/** The text with every match replaced, and how many there were; `block` throws instead. */
export function redactText(o: PiiOptions, text: string): { text: string; count: number } {
  const found = detect(o, text);
  if (!found.length) return { text, count: 0 };
  if (o.strategy === 'block') throw new PiiDetectionError(o.piiType);
  let out = '';
  let at = 0;
  for (const m of found) {
    out += text.slice(at, m.start) + replacement(o, m.text);
    at = m.end;
  }
  return { text: out + text.slice(at), count: found.length };
}

function redactContent(o: PiiOptions, content: MessageContent): { content: MessageContent; count: number } {
  if (typeof content === 'string') {
    const r = redactText(o, content);
    return { content: r.text, count: r.count };
  }
  let count = 0;
  const parts = content.map((p) => {
    if (typeof p.text !== 'string') return p;
    const r = redactText(o, p.text);
    count += r.count;
    return { ...p, text: r.text };
  });
  return { content: parts, count };
}

/** A message with PII replaced in its content and tool-call arguments; null when it had none. */
export function redactMessage(o: PiiOptions, m: Message): Message | null {
  const c = redactContent(o, m.content);
  let count = c.count;
  const calls = m.tool_calls?.map((call) => {
    const r = redactText(o, JSON.stringify(call.args));
    count += r.count;
    return r.count ? { ...call, args: JSON.parse(r.text) as Record<string, unknown> } : call;
  });
  if (!count) return null;
  return { ...m, content: c.content, ...(calls ? { tool_calls: calls } : {}) };
}
