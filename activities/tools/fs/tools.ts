import picomatch from 'picomatch';
import { z } from 'zod';
import { findGraph } from '../../../core/graphs.js';
import { defineTool, type ToolContext } from '../types.js';
import { backendFor, FileError, normalizePath, type Backend, type FileData } from './backend.js';

// deepagents' filesystem tools (ls, read_file, write_file, edit_file, glob, grep) and write_todos, over the
// package's backend (backend.ts). A mistake the model can fix (no such file, an ambiguous edit) is its tool result,
// not a failure to retry.

const backend = (ctx: ToolContext): Backend => backendFor(findGraph(ctx.graphId), ctx);

/** Runs a file operation; FileErrors become the `Error: ...` result the model reads. */
async function attempt(op: () => Promise<string>): Promise<string> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof FileError) return `Error: ${err.message}`;
    throw err;
  }
}

const under = (dir: string) => (p: string) => dir === '/' || p === dir || p.startsWith(`${dir}/`);

export const ls = defineTool({
  name: 'ls',
  description: 'List the files and folders directly in a folder of your filesystem (folders end with /).',
  schema: z.object({ path: z.string().default('/').describe('Absolute folder path, default /') }),
  run: ({ path }, ctx) =>
    attempt(async () => {
      const dir = normalizePath(path);
      const prefix = dir === '/' ? '/' : `${dir}/`;
      const entries = new Set<string>();
      for (const p of Object.keys(await backend(ctx).all()).filter(under(dir))) {
        const rest = p.slice(prefix.length);
        if (!rest) continue;
        entries.add(rest.includes('/') ? `${prefix}${rest.split('/')[0]}/` : p);
      }
      return entries.size ? [...entries].sort().join('\n') : `No files found in ${dir}`;
    }),
});

export const readFile = defineTool({
  name: 'read_file',
  description: 'Read a file, with line numbers. Long files: read a window with offset (first line, from 0) and limit.',
  schema: z.object({
    file_path: z.string(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).default(500),
  }),
  run: ({ file_path, offset, limit }, ctx) =>
    attempt(async () => {
      const p = normalizePath(file_path);
      const file = await backend(ctx).get(p);
      if (!file) throw new FileError(`File '${p}' not found`);
      if (!file.content) return 'System reminder: File exists but has empty contents';
      const lines = file.content.split('\n');
      if (offset >= lines.length) throw new FileError(`Line offset ${offset} exceeds file length (${lines.length} lines)`);
      return lines
        .slice(offset, offset + limit)
        .map((line, i) => `${String(offset + i + 1).padStart(6)}\t${line}`)
        .join('\n');
    }),
});

const now = () => new Date().toISOString();

export const writeFile = defineTool({
  name: 'write_file',
  description: 'Create a file, or replace its whole content.',
  schema: z.object({ file_path: z.string(), content: z.string() }),
  run: ({ file_path, content }, ctx) =>
    attempt(async () => {
      const p = normalizePath(file_path);
      const files = backend(ctx);
      const before = await files.get(p);
      await files.put(p, { content, created_at: before?.created_at || now(), modified_at: now() });
      return `Updated file ${p}`;
    }),
});

export const editFile = defineTool({
  name: 'edit_file',
  description: 'Replace an exact string in a file. The string must occur once, unless replace_all is true.',
  schema: z.object({
    file_path: z.string(),
    old_string: z.string().min(1),
    new_string: z.string(),
    replace_all: z.boolean().default(false),
  }),
  run: ({ file_path, old_string, new_string, replace_all }, ctx) =>
    attempt(async () => {
      const p = normalizePath(file_path);
      const files = backend(ctx);
      const file = await files.get(p);
      if (!file) throw new FileError(`File '${p}' not found`);
      const occurrences = file.content.split(old_string).length - 1;
      if (occurrences === 0) throw new FileError(`String not found in file: '${old_string}'`);
      if (occurrences > 1 && !replace_all)
        throw new FileError(`String '${old_string}' appears ${occurrences} times in file. Use replace_all=true or give more context.`);
      const content = replace_all ? file.content.split(old_string).join(new_string) : file.content.replace(old_string, () => new_string);
      await files.put(p, { ...file, content, modified_at: now() } satisfies FileData);
      return `Successfully replaced ${replace_all ? occurrences : 1} instance(s) of the string in '${p}'`;
    }),
});

export const glob = defineTool({
  name: 'glob',
  description: 'Find files whose path matches a glob pattern such as **/*.md, under a folder (default /).',
  schema: z.object({ pattern: z.string().min(1), path: z.string().default('/') }),
  run: ({ pattern, path }, ctx) =>
    attempt(async () => {
      const dir = normalizePath(path);
      const matches = picomatch(pattern.replace(/^\//, ''), { dot: true });
      const found = Object.keys(await backend(ctx).all())
        .filter(under(dir))
        .filter((p) => matches(p.slice(dir === '/' ? 1 : dir.length + 1)));
      return found.length ? found.sort().join('\n') : `No files match ${pattern}`;
    }),
});

export const grep = defineTool({
  name: 'grep',
  description: 'Search files for a literal string (not a regex). Answers path:line: text for each match.',
  schema: z.object({
    pattern: z.string().min(1),
    path: z.string().default('/'),
    glob: z.string().optional().describe('Only files matching this glob, e.g. *.md'),
  }),
  run: ({ pattern, path, glob: only }, ctx) =>
    attempt(async () => {
      const dir = normalizePath(path);
      const keep = only ? picomatch(only, { basename: !only.includes('/'), dot: true }) : () => true;
      const hits: string[] = [];
      const files = await backend(ctx).all();
      for (const p of Object.keys(files).filter(under(dir)).sort()) {
        if (!keep(p.slice(1))) continue;
        files[p]!.content.split('\n').forEach((line, i) => {
          if (line.includes(pattern)) hits.push(`${p}:${i + 1}: ${line}`);
        });
      }
      return hits.length ? hits.join('\n') : `No matches for "${pattern}"`;
    }),
});

const todoSchema = z.object({ content: z.string().min(1), status: z.enum(['pending', 'in_progress', 'completed']) });

export const writeTodos = defineTool({
  name: 'write_todos',
  description: 'Replace your todo list (for multi-step tasks): each item has content and a status.',
  schema: z.object({ todos: z.array(todoSchema) }),
  async run({ todos }, ctx) {
    await ctx.state.write('todos', todos);
    return `Updated todo list to ${JSON.stringify(todos)}`;
  },
});

export const fsTools = [ls, readFile, writeFile, editFile, glob, grep, writeTodos];
