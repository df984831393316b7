// `exposedapi-apim <command>`: each subcommand lives in its own module and is imported only when chosen, so
// `validate` in a CI pipeline does not pay for the webhook server or the Kubernetes client.
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
