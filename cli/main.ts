// `exposedapi-apim <command>`: each subcommand lives in its own module and is imported only when chosen, so
// `validate` in a CI pipeline does not pay for the webhook server or the Kubernetes client.
import { existsSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Command {
  summary: string;
  load: () => Promise<{ run: (args: string[]) => Promise<number> }>;
}

export const COMMANDS: Record<string, Command> = {
  validate: { summary: 'check ExposedAPI YAML/JSON files offline with the webhook\'s rules', load: () => import('./validate-command.ts') },
  webhook: { summary: 'serve admission (validate + mutate) over HTTPS', load: () => import('./webhook-command.ts') },
  sandbox: { summary: 'the whole system on this machine: control plane, emulator, webhook, dispatcher, examples', load: () => import('./sandbox-command.ts') },
  cluster: { summary: 'start or stop a local control plane with the webhook, for exploring (cluster up|down)', load: () => import('./cluster-command.ts') },
  emulator: { summary: 'run the local Azure API Management emulator', load: () => import('./emulator-command.ts') },
  execute: { summary: 'apply or delete one ExposedAPI change (what each Job runs)', load: () => import('./execute-command.ts') },
  conformance: { summary: 'check what the emulator claims about Azure API Management against a service (--emulator or Azure)', load: () => import('./conformance-command.ts') },
};

/**
 * Commands that use the V8 compile cache shipped beside the bundle (scripts/build.ts writes it for the chunks of these
 * commands only): `execute` runs once per change, as a new process, so compiling its 3.5 MB of chunks again in every
 * Job was its largest avoidable start-up cost. Long-running commands compile once per process and are left out.
 */
const COMPILE_CACHED_COMMANDS = new Set(['execute']);

/**
 * Uses `<bundle dir>/compile-cache/` when it exists (only the bundle has one; from the sources nothing happens). It is
 * read-only in the image: a module it lacks is compiled as usual, and Node's attempt to add it at exit fails quietly.
 */
function useShippedCompileCache(): void {
  const directory = fileURLToPath(new URL('./compile-cache/', import.meta.url));
  if (existsSync(directory)) enableCompileCache({ directory, portable: true });
}

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: exposedapi-apim <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun "exposedapi-apim <command> --help" for the options of a command.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`exposedapi-apim: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (COMPILE_CACHED_COMMANDS.has(name)) useShippedCompileCache();
  const mod = await command.load();
  return mod.run(rest);
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`exposedapi-apim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
