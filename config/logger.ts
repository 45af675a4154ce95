// A small structured logger: one JSON line per event on stderr, so process output stays machine-readable.

export const LogLevel = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevelName = keyof typeof LogLevel;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(level: LogLevelName = 'info', base: Record<string, unknown> = {}): Logger {
  const min = LogLevel[level];
  const write = (name: LogLevelName, msg: string, fields?: Record<string, unknown>) => {
    if (LogLevel[name] < min) return;
    const line = { time: new Date().toISOString(), level: name, msg, ...base, ...fields };
    process.stderr.write(`${JSON.stringify(line, errorReplacer)}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }),
  };
}

// Errors serialize with their cause chain: Temporal wraps the interesting failure several levels deep.
function errorReplacer(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const out: Record<string, unknown> = { name: value.name, message: value.message, stack: value.stack };
  const type = (value as { type?: unknown }).type;
  if (type !== undefined) out.type = type;
  if (value.cause !== undefined) out.cause = value.cause;
  return out;
}
