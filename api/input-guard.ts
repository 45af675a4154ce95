import type { NextFunction, Request, Response } from 'express';
import { invalid } from './errors.js';

// One check for every route, before any handler: text PostgreSQL cannot store (a NUL character, an unpaired
// UTF-16 surrogate) and nesting deeper than anything the runtime handles are refused with a 422 that names the
// field. Without it such input reached the database and came back as a 500, which the SDK retries.

/** Deeper than any real state or store value; deep enough inputs would otherwise overflow recursive code. */
export const MAX_DEPTH = 200;

const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const unstorableAll = new RegExp(unstorable.source, 'g');

export function inputGuard(req: Request, _res: Response, next: NextFunction): void {
  const problem = pathProblem(req.path) ?? findProblem(req.query, 'query') ?? findProblem(req.body, 'body');
  if (problem) throw invalid(`Invalid ${problem.path.split('.')[0]}: ${problem.path}: ${problem.message}`, [problem]);
  next();
}

interface Problem {
  path: string;
  message: string;
}

function textProblem(s: string): string | null {
  const m = unstorable.exec(s);
  if (!m) return null;
  return m[0] === '\u0000' ? 'must not contain NUL (\\u0000) characters' : 'must be valid Unicode (it has an unpaired surrogate)';
}

function pathProblem(raw: string): Problem | null {
  for (const segment of raw.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return null; // Express answers a malformed escape with its own 400.
    }
    const message = textProblem(decoded);
    if (message) return { path: 'path', message };
  }
  return null;
}

/** Walks a parsed JSON value without recursion, keys included. */
function findProblem(root: unknown, where: string): Problem | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: where, depth: 0 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const message = textProblem(value);
      if (message) return { path, message };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_DEPTH) return { path, message: `is nested deeper than ${MAX_DEPTH} levels` };
    for (const [key, child] of Object.entries(value)) {
      const message = textProblem(key);
      if (message) return { path: `${path}.${key.replace(unstorableAll, '?')}`, message: `has a key that ${message}` };
      stack.push({ value: child, path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return null;
}
