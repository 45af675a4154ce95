import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

// File access inside one package folder: every path is resolved (symlinks too) and must stay in the folder, as
// deepagents deploy requires, so a package cannot make the runtime read /etc/passwd into a prompt.

export class PackageError extends Error {
  override name = 'PackageError';
}

/** Files larger than this are not seeded into the agent's filesystem (deepagents skips SKILL.md files over 10 MB). */
const MAX_SEEDED_BYTES = 1024 * 1024;

export class PackageDir {
  readonly root: string;

  constructor(dir: string) {
    this.root = realpathSync(dir);
  }

  /** The real path of `rel`, or undefined when it does not exist; throws when it leads outside the package. */
  resolve(rel: string): string | undefined {
    const full = path.join(this.root, rel);
    if (!existsSync(full)) return undefined;
    const real = realpathSync(full);
    if (real !== this.root && !real.startsWith(this.root + path.sep)) throw new PackageError(`${rel} leads outside the package (${real})`);
    return real;
  }

  read(rel: string): string | undefined {
    const real = this.resolve(rel);
    return real === undefined ? undefined : readFileSync(real, 'utf8');
  }

  /** Names of the sub-folders of `rel` (each checked to stay inside). */
  folders(rel: string): string[] {
    const real = this.resolve(rel);
    if (!real) return [];
    return readdirSync(real)
      .filter((n) => !n.startsWith('.'))
      .filter((n) => statSync(this.resolve(path.join(rel, n))!).isDirectory())
      .sort();
  }

  /** Every file under `rel`, as paths relative to the package, for seeding; large files are skipped. */
  files(rel: string): string[] {
    const real = this.resolve(rel);
    if (!real) return [];
    return readdirSync(real, { recursive: true, encoding: 'utf8' })
      .map((n) => path.join(rel, n))
      .filter((n) => !n.split(path.sep).some((part) => part.startsWith('.')))
      .filter((n) => {
        const st = statSync(this.resolve(n)!);
        return st.isFile() && st.size <= MAX_SEEDED_BYTES;
      })
      .sort();
  }
}
