// The checkout this harness belongs to: the node agent runs `<repo>/cli/main.ts` for the project's own image and the
// build script lives under `<repo>/scripts`.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
