// Cron vocabulary: schedule and fire ids, and the checks a cron expression and a timezone pass before anything is
// stored. Temporal's scheduler parses the expression for real; these checks exist to name the bad part clearly.

export const cronScheduleId = (cronId: string) => `cron-${cronId}`;
/** Each fire's workflow id is this plus the scheduled time, which the Schedule appends: `cron-<id>-<time>`. */
export const cronFireWorkflowId = (cronId: string) => `cron-${cronId}`;

/** Temporal's shorthands; `@every <n><s|m|h|d>[/<phase>]` is accepted too. */
const shorthands = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const every = /^@every\s+\d+[smhd](\/\d+[smhd])?$/;

interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
}
const second: Field = { name: 'second', min: 0, max: 59 };
const minute: Field = { name: 'minute', min: 0, max: 59 };
const hour: Field = { name: 'hour', min: 0, max: 23 };
const dayOfMonth: Field = { name: 'day of month', min: 1, max: 31 };
const month: Field = {
  name: 'month',
  min: 1,
  max: 12,
  names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
};
const dayOfWeek: Field = { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] };
const year: Field = { name: 'year', min: 1970, max: 2999 };

/**
 * The forms Temporal Schedules accept. Five fields are standard cron; six add a trailing year; seven add a leading
 * seconds field as well (`*\/5 * * * * * *` fires every five seconds). Day of month and day of week must both
 * match (standard cron fires when either does).
 */
const layouts: Record<number, Field[]> = {
  5: [minute, hour, dayOfMonth, month, dayOfWeek],
  6: [minute, hour, dayOfMonth, month, dayOfWeek, year],
  7: [second, minute, hour, dayOfMonth, month, dayOfWeek, year],
};

/** Returns why the expression is not a schedule Temporal would run as written, or null when it is. */
export function cronExpressionError(expression: string): string | null {
  const expr = expression.trim();
  if (!expr) return 'the schedule is empty';
  if (/^(CRON_)?TZ=/i.test(expr)) return 'put the time zone in the timezone field, not in the schedule';
  if (expr.includes('#')) return '"#" is not supported (Temporal would read the rest as a comment)';
  if (expr.startsWith('@')) return shorthands.has(expr.toLowerCase()) || every.test(expr) ? null : `unknown shorthand "${expr}"`;
  const parts = expr.split(/\s+/);
  const layout = layouts[parts.length];
  if (!layout)
    return `expected 5 fields (minute hour day month weekday), 6 (plus year) or 7 (second first, year last); got ${parts.length}`;
  for (const [i, part] of parts.entries()) {
    const err = fieldError(part, layout[i]!);
    if (err) return `${layout[i]!.name} "${part}": ${err}`;
  }
  return null;
}

function fieldError(text: string, f: Field): string | null {
  for (const item of text.split(',')) {
    const [range, step, extra] = item.split('/');
    if (extra !== undefined || range === undefined || range === '') return 'malformed';
    if (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0)) return `step "${step}" must be a positive number`;
    if (range === '*') continue;
    const ends = range.split('-');
    if (ends.length > 2) return 'malformed range';
    const values = ends.map((e) => valueOf(e, f));
    if (values.some((v) => v === null)) return `values must be ${f.min}-${f.max}${f.names ? ' or names' : ''}`;
    if (values.length === 2 && values[0]! > values[1]!) return 'range start is after its end';
  }
  return null;
}

function valueOf(text: string, f: Field): number | null {
  const named = f.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + (f === month ? 1 : 0);
  if (!/^\d+$/.test(text)) return null;
  const n = Number(text);
  return n >= f.min && n <= f.max ? n : null;
}

/** True for a time zone name the runtime knows (IANA names such as Europe/Berlin, or UTC). */
export function isKnownTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
