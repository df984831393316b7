// What a container runs when the node agent plays kubelet without a container runtime: the process is local, so an
// image only decides which local program stands in for its entrypoint.
//
// - An image whose name contains `exposedapi-apim` is this project: its entrypoint `exposedapi-apim` becomes
//   `<node> <repo>/cli/main.ts` with the project's pinned Node (the supervisor's own process.execPath, Node 24).
//   A `command` of `["exposedapi-apim", ...]` or `["node", ...]` maps the same way; any other command runs as written.
// - Any other image (busybox, alpine, ...) runs `command` + `args` literally, e.g. `["sh", "-c", "exit 3"]`; without a
//   `command` there is no entrypoint to run and the container fails to start, as it would with an unknown image.
import { basename, join } from 'node:path';

export interface ContainerSpecLike {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
}

export interface CommandContext {
  nodeBinary: string;
  repoRoot: string;
}

export interface ResolvedCommand {
  file: string;
  args: string[];
  /** The project's image runs from the checkout so `node_modules` resolves as it does in the image. */
  projectImage: boolean;
}

export const PROJECT_IMAGE_MARKER = 'exposedapi-apim';

export function isProjectImage(image: string | undefined): boolean {
  return (image ?? '').includes(PROJECT_IMAGE_MARKER);
}

/** Throws with the fix when the container has nothing runnable. `env` expands `$(VAR)` references like kubelet does. */
export function resolveContainerCommand(c: ContainerSpecLike, ctx: CommandContext, env: Record<string, string>): ResolvedCommand {
  const command = (c.command ?? []).map((s) => expandEnvReferences(s, env));
  const args = (c.args ?? []).map((s) => expandEnvReferences(s, env));
  const cli = join(ctx.repoRoot, 'cli', 'main.ts');
  if (isProjectImage(c.image)) {
    if (command.length === 0) return { file: ctx.nodeBinary, args: [cli, ...args], projectImage: true };
    const first = basename(command[0]!);
    if (first === PROJECT_IMAGE_MARKER) return { file: ctx.nodeBinary, args: [cli, ...command.slice(1), ...args], projectImage: true };
    if (first === 'node') return { file: ctx.nodeBinary, args: [...command.slice(1), ...args], projectImage: true };
    return { file: command[0]!, args: [...command.slice(1), ...args], projectImage: true };
  }
  if (command.length === 0) {
    throw new Error(`container "${c.name}" (image "${c.image ?? ''}") has no command; the test node agent runs processes ` +
      `locally and only knows the entrypoint of "${PROJECT_IMAGE_MARKER}" images: set spec.containers[].command, ` +
      'e.g. ["sh", "-c", "..."]');
  }
  return { file: command[0]!, args: [...command.slice(1), ...args], projectImage: false };
}

/**
 * Kubernetes' `$(VAR)` syntax (k8s.io/kubernetes/third_party/forked/golang/expansion): `$(NAME)` becomes the value when
 * NAME is defined and stays as written when not; `$$` is an escaped `$`.
 */
export function expandEnvReferences(input: string, env: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const end = input.indexOf(')', i + 2);
      if (end === -1) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, end);
      out += Object.hasOwn(env, name) ? env[name] : `$(${name})`;
      i = end;
    } else {
      out += ch;
    }
  }
  return out;
}
