// Reads the Dockerfile's instructions (the subset this project's Dockerfile uses: FROM, ARG, LABEL, WORKDIR, COPY
// with --exclude, RUN, USER, ENV, ENTRYPOINT, CMD), so a test can compare what Docker would build with the image
// `npm run image` builds. Line continuations and comments are handled; shell-form values are kept as written.
import { matchesGlob } from 'node:path';

export interface Instruction {
  keyword: string;
  /** Flags before the arguments (`--exclude=…`), in order. */
  flags: string[];
  /** Exec form (JSON array) as an array; shell form as the text. */
  args: string[] | string;
}

export function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    if (!current && /^\s*#/.test(raw)) continue;
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  return logical.map((l) => {
    const [, keyword, rest] = /^(\S+)\s*(.*)$/s.exec(l)!;
    let body = rest!;
    const flags: string[] = [];
    for (let m = /^(--\S+)\s+/.exec(body); m; m = /^(--\S+)\s+/.exec(body)) {
      flags.push(m[1]!);
      body = body.slice(m[0].length);
    }
    const exec = body.startsWith('[') ? (JSON.parse(body) as string[]) : undefined;
    return { keyword: keyword!.toUpperCase(), flags, args: exec ?? body };
  });
}

/** `K=V K2="v 2"` (ENV, LABEL) → pairs, in order. */
export function keyValues(text: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("((?:[^"\\]|\\.)*)"|\S*)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push([m[1]!, m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]!]);
  return out;
}

/**
 * The files a `COPY [--exclude=P]… SRC/ DEST/` of a folder puts in the image, given the folder's files (relative
 * paths): an exclude pattern drops a path it matches and everything under a folder it matches (BuildKit's rule).
 */
export function copiedFiles(copy: Instruction, files: string[]): string[] {
  const args = copy.args as string;
  const [source, destination] = args.split(/\s+/);
  if (!source || !destination?.endsWith('/')) throw new Error(`COPY ${args}: expected one source folder and a destination folder`);
  const excludes = copy.flags.filter((f) => f.startsWith('--exclude=')).map((f) => f.slice('--exclude='.length));
  const excluded = (rel: string): boolean => {
    const parts = rel.split('/');
    return parts.some((_, i) => excludes.some((p) => matchesGlob(parts.slice(0, i + 1).join('/'), p)));
  };
  return files.filter((f) => !excluded(f)).map((f) => `${destination}${f}`).sort();
}
