import { z } from 'zod';
import { configSchema } from './index.js';

/** The README's configuration table, generated from the schema so the two cannot disagree. */
export function configTable(): string {
  const json = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, { default?: unknown; description?: string; enum?: unknown[] }>;
  };
  const rows = Object.entries(json.properties).map(([name, p]) => {
    const def = p.default === undefined ? '' : `\`${String(p.default)}\``;
    const choices = p.enum ? ` One of ${p.enum.map((v) => `\`${String(v)}\``).join(', ')}.` : '';
    return `| \`${name}\` | ${def} | ${(p.description ?? '').replace(/\|/g, '\\|')}${choices} |`;
  });
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
