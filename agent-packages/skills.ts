import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { SkillInfo } from '../core/graphs.js';
import { PackageError, type PackageDir } from './files.js';
import { describeIssues, skillFrontmatterSchema } from './schema.js';

// Skills (Agent Skills spec): skills/<name>/SKILL.md with YAML frontmatter. The model is told each skill's name and
// description; it reads SKILL.md and the files next to it on demand with read_file (progressive disclosure).

export interface LoadedSkills {
  skills: SkillInfo[];
  /** Seeded read-only files: `/skills/<name>/SKILL.md` and its siblings. */
  files: Record<string, string>;
}

export function loadSkills(pkg: PackageDir, base = ''): LoadedSkills {
  const skills: SkillInfo[] = [];
  const files: Record<string, string> = {};
  const dir = path.join(base, 'skills');
  for (const name of pkg.folders(dir)) {
    const rel = path.join(dir, name, 'SKILL.md');
    const text = pkg.read(rel);
    if (text === undefined) throw new PackageError(`${rel} is missing`);
    const meta = frontmatter(text, rel);
    skills.push({ name, description: meta.description, path: `/skills/${name}/SKILL.md` });
    for (const file of pkg.files(path.join(dir, name))) {
      files[`/${path.relative(base, file).split(path.sep).join('/')}`] = pkg.read(file)!;
    }
  }
  return { skills, files };
}

function frontmatter(text: string, rel: string) {
  const match = /^---\r?\n([\s\S]*?)\r?\n---(?:\r?\n|$)/.exec(text);
  if (!match) throw new PackageError(`${rel} has no frontmatter (a --- block with name and description at the top)`);
  let raw: unknown;
  try {
    raw = parseYaml(match[1]!);
  } catch (err) {
    throw new PackageError(`${rel} frontmatter is not valid YAML: ${(err as Error).message}`);
  }
  const parsed = skillFrontmatterSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new PackageError(`${rel} frontmatter: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The skills section appended to the system prompt. */
export function skillsPrompt(skills: SkillInfo[]): string {
  if (!skills.length) return '';
  const lines = skills.map((s) => `- ${s.name}: ${s.description} (read ${s.path} for how to use it)`);
  return `\n\n## Skills\nYou have these skills. Read a skill's SKILL.md with read_file before you use it.\n${lines.join('\n')}`;
}
