import type { Message } from '../../core/messages.js';
import type { RunContext } from '../../core/runs.js';
import { builtinMiddleware } from './builtins.js';
import { hooksOf, type Fired, type MiddlewareDefinition } from '../../core/middleware/define.js';
import { MiddlewareConfigError, type MiddlewareEntry, type MiddlewareRef } from '../../core/middleware/spec.js';

// From `configurable.middleware` (and the operator's policies) to the middleware list a run carries: every entry
// names a known definition, its options pass that definition's schema (defaults filled in), ids are unique.

export class MiddlewareRegistry {
  private readonly byName = new Map<string, MiddlewareDefinition>();

  constructor(custom: MiddlewareDefinition[] = []) {
    for (const d of [...builtinMiddleware, ...custom]) {
      if (this.byName.has(d.name)) throw new Error(`Two middleware definitions are named ${d.name}`);
      this.byName.set(d.name, d);
    }
  }

  get(name: string): MiddlewareDefinition | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Operator policies first (outermost, not removable), then the assistant's own list. */
  resolve(policies: MiddlewareEntry[], own: MiddlewareEntry[]): MiddlewareRef[] {
    const refs = [...policies.map((e) => this.ref(e, true, 'policies')), ...own.map((e) => this.ref(e, false, 'configurable.middleware'))];
    const seen = new Set<string>();
    for (const r of refs) {
      if (seen.has(r.id))
        throw new MiddlewareConfigError(
          `middleware id "${r.id}" is used twice${r.policy ? '' : ' (an operator policy may hold it)'}; give one of them another id`,
        );
      seen.add(r.id);
    }
    return refs;
  }

  private ref(e: MiddlewareEntry, policy: boolean, where: string): MiddlewareRef {
    const def = this.byName.get(e.name);
    if (!def) throw new MiddlewareConfigError(`${where}: unknown middleware "${e.name}" (known: ${this.names().join(', ')})`);
    let options = e.options;
    if (def.options) {
      const parsed = def.options.safeParse(e.options);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'options'}: ${i.message}`).join('; ');
        throw new MiddlewareConfigError(`${where}: invalid options for ${e.name}: ${issues}`);
      }
      options = parsed.data as Record<string, unknown>;
    }
    return { id: e.id ?? e.name, name: e.name, options, hooks: hooksOf(def, options), ...(policy ? { policy: true } : {}) };
  }

  /** The run's input messages after every filterInput, in list order; what fired is returned to be recorded. */
  filterInput(refs: MiddlewareRef[], run: RunContext, messages: Message[]): { messages: Message[]; fired: (Fired & { id: string })[] } {
    const fired: (Fired & { id: string })[] = [];
    let out = messages;
    for (const r of refs) {
      const def = this.byName.get(r.name);
      if (!def?.filterInput) continue;
      out = def.filterInput(out, { id: r.id, options: r.options, run, fire: (f) => fired.push({ ...f, id: r.id }) });
    }
    return { messages: out, fired };
  }
}
