import { startDevEnv, type DevEnv, type ServerChoice } from '../test/helpers/dev-env.js';

// Shared by every benchmark: one Temporal dev server (on a SQLite file, as `npm start` runs it, unless
// --server=memory) and one workflow bundle, and stacks built on them.

export type BenchEnv = DevEnv;

export type { ServerChoice };

export const benchEnv = (db: DevEnv['db'], choice: ServerChoice = {}): Promise<BenchEnv> => startDevEnv(db, choice, 'bench');

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');

export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`;
  process.stdout.write(
    `\n${title}\n${line(header)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map((r) => line(r.map(String))).join('\n')}\n`,
  );
}
