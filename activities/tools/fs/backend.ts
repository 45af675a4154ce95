import path from 'node:path';
import type { AgentDefinition } from '../../../core/graphs.js';
import type { ToolContext } from '../types.js';

// Where the filesystem tools keep files (deepagents' backend protocol, reduced to what the six tools need):
// `state` keeps them in the thread's checkpointed state (so forks and time travel see their own files), `store`
// in the long-term store under a namespace per assistant and user, and a composite routes path prefixes to one
// or the other (longest prefix wins). The package's AGENTS.md and skills lie on top, read-only.

export interface FileData {
  content: string;
  created_at: string;
  modified_at: string;
}

export interface Backend {
  /** Every file, by absolute path. */
  all(): Promise<Record<string, FileData>>;
  get(filePath: string): Promise<FileData | undefined>;
  /** One put per tool call: state writes are one channel write per call. */
  put(filePath: string, file: FileData): Promise<void>;
}

export class FileError extends Error {
  override name = 'FileError';
}

/** An absolute path with no `..` left after normalizing; anything else is `invalid_path`. */
export function normalizePath(raw: string): string {
  if (!raw.startsWith('/')) throw new FileError(`invalid_path: ${raw} is not an absolute path (start it with /)`);
  const p = path.posix.normalize(raw);
  if (p.split('/').includes('..')) throw new FileError(`invalid_path: ${raw} leaves the filesystem`);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

const isFile = (v: unknown): v is FileData => !!v && typeof v === 'object' && typeof (v as FileData).content === 'string';

function stateBackend(ctx: ToolContext, owns: (p: string) => boolean): Backend {
  const files = async () => {
    const raw = (await ctx.state.values()).files;
    return raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  };
  return {
    async all() {
      return Object.fromEntries(Object.entries(await files()).filter(([p, f]) => owns(p) && isFile(f))) as Record<string, FileData>;
    },
    async get(p) {
      const f = (await files())[p];
      return isFile(f) ? f : undefined;
    },
    put: (p, file) => ctx.state.write('files', { [p]: file }),
  };
}

/** Long-term files: one namespace per assistant and user, so a user's threads share them and users never do. */
export const storeNamespace = (ctx: Pick<ToolContext, 'assistantId' | 'userId'>) => [
  'filesystem',
  ctx.assistantId,
  ctx.userId ?? '_shared',
];

function storeBackend(ctx: ToolContext, owns: (p: string) => boolean): Backend {
  if (!ctx.store) throw new FileError('This worker has no long-term store configured.');
  const store = ctx.store;
  const ns = storeNamespace(ctx);
  return {
    async all() {
      const out: Record<string, FileData> = {};
      for (let offset = 0; ; offset += 100) {
        const page = await store.search(ns, { limit: 100, offset });
        for (const item of page) if (owns(item.key) && isFile(item.value)) out[item.key] = item.value;
        if (page.length < 100) return out;
      }
    },
    async get(p) {
      const item = await store.get(ns, p);
      return item && isFile(item.value) ? item.value : undefined;
    },
    // Files are not embedded: the tools search them literally (grep), not by meaning.
    put: (p, file) => store.put(ns, p, { ...file }, { index: false }),
  };
}

/** The backend of a package: its routes, under its read-only seeded files. */
export function backendFor(graph: AgentDefinition | undefined, ctx: ToolContext): Backend {
  const spec = graph?.backend ?? { type: 'state' as const };
  const fallback = spec.type === 'store' ? 'store' : 'state';
  const routes = Object.entries(spec.type === 'composite' ? (spec.routes ?? {}) : {}).sort(([a], [b]) => b.length - a.length);
  const kindOf = (p: string) => routes.find(([prefix]) => `${p}/`.startsWith(prefix))?.[1] ?? fallback;
  const kinds = new Set([fallback, ...routes.map(([, k]) => k)]);
  const made = {
    state: kinds.has('state') ? stateBackend(ctx, (p) => kindOf(p) === 'state') : undefined,
    store: kinds.has('store') ? storeBackend(ctx, (p) => kindOf(p) === 'store') : undefined,
  };
  const seeded = graph?.files ?? {};
  const seededFile = (p: string): FileData | undefined =>
    Object.hasOwn(seeded, p) ? { content: seeded[p]!, created_at: '', modified_at: '' } : undefined;
  return {
    async all() {
      const parts = await Promise.all([made.state?.all(), made.store?.all()]);
      const seededFiles = Object.fromEntries(Object.keys(seeded).map((p) => [p, seededFile(p)!]));
      return Object.assign({}, ...parts, seededFiles) as Record<string, FileData>;
    },
    async get(p) {
      return seededFile(p) ?? made[kindOf(p)]!.get(p);
    },
    async put(p, file) {
      if (seededFile(p)) throw new FileError(`permission_denied: ${p} is part of the agent package and read-only`);
      return made[kindOf(p)]!.put(p, file);
    },
  };
}
