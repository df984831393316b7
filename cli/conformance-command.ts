// `exposedapi-apim conformance`: the contract suite of what the emulator claims about Azure API Management, run
// against a real service (credentials from the environment, as the executor reads them) or, with --emulator, against
// an emulator it starts itself. Prints a table (or --json). Exit codes: 0 every check passed, was skipped or could
// not be observed; 1 a check differs or failed, cleanup failed, or interrupted; 2 usage, configuration, or refused
// (an earlier run's objects are on the service).
// A development tool run from a source checkout (scripts/build.ts SOURCE_CHECKOUT_COMMANDS): --emulator starts
// emulator/, which the operator image does not contain.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ArmTarget } from '../conformance/arm-target.ts';
import { azureTarget, emulatorTarget } from '../conformance/arm-target.ts';
import { exitCode, runConformance } from '../conformance/runner.ts';
import { ALL_CHECKS, selectChecks } from '../conformance/suite.ts';
import { formatReport } from '../conformance/table.ts';
import { errorMessage } from '../core/kube/errors.ts';

const HELP = `usage: exposedapi-apim conformance [--emulator] [--only ID]... [--json] [--clean-up-leftovers] [--list]

Checks what the APIM emulator claims about Azure API Management against a service, and prints per check what Azure
is expected to do (with the public source), what the service did, and the verdict: pass, differs, skipped (the
check's premise does not hold on this tier), not observed (timing did not show it) or error.

Against Azure (read docs/conformance.md first: it creates and deletes a few objects in the service):
  APIM_SUBSCRIPTION_ID (or AZURE_SUBSCRIPTION_ID), APIM_RESOURCE_GROUP, APIM_SERVICE_NAME, optionally ARM_ENDPOINT,
  ARM_SCOPE and AZURE_AUTHORITY_HOST (sovereign clouds); the identity is DefaultAzureCredential's (AZURE_TENANT_ID,
  AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, workload identity, or az login).
Every object it creates is named conformance-<8 hex>-…; it deletes them all at the end, also after a failure or
Ctrl-C, and writes nothing else.

  --emulator             start a local APIM emulator and check it (no Azure needed)
  --only ID              run only this check, or every check of an area (e.g. policy); repeatable
  --json                 print the report as JSON
  --clean-up-leftovers   delete objects of an earlier, interrupted run (conformance-<8 hex>-…) first; without it the
                         run refuses to start while they exist
  --list                 list the checks and exit
`;

async function startEmulator(): Promise<{ target: ArmTarget; stop: () => Promise<void> }> {
  // Loaded only here: the emulator is development code, and runs against Azure do not need it.
  const { startApimEmulator } = await import('../emulator/apim-emulator.ts');
  const dir = await mkdtemp(join(tmpdir(), 'exposedapi-apim-conformance-'));
  // Imports last 2 s: long enough to observe an import in progress (409, 404), short enough for a quick run.
  const emu = await startApimEmulator({ dir, importDelayMs: 2000 });
  return {
    target: emulatorTarget({ ...emu.info(), caPem: emu.caPem }),
    stop: async () => {
      await emu.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        emulator: { type: 'boolean' },
        only: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        'clean-up-leftovers': { type: 'boolean' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`exposedapi-apim conformance: ${errorMessage(e)}\n\n${HELP}`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (v.list) {
    for (const c of ALL_CHECKS) process.stdout.write(`${c.id}\n  ${c.expected}\n  source: ${c.source}\n`);
    return 0;
  }
  const selection = selectChecks(v.only ?? []);
  if (selection.errors.length > 0) {
    process.stderr.write(`exposedapi-apim conformance: ${selection.errors.join('\n')}\n`);
    return 2;
  }

  let target: ArmTarget;
  let stop = async (): Promise<void> => {};
  if (v.emulator) {
    ({ target, stop } = await startEmulator());
  } else {
    const azure = azureTarget(process.env);
    if (!azure.ok) {
      process.stderr.write(`exposedapi-apim conformance: the target service is not configured (or use --emulator):\n${azure.errors.map((e) => `  ${e}`).join('\n')}\n`);
      return 2;
    }
    target = azure.target;
  }

  // The first Ctrl-C stops between checks and still deletes what the run created; a second one exits at once.
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`exposedapi-apim conformance: ${signal}: stopping after the current step and deleting what this run created (again to quit now)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const report = await runConformance(target, {
      checks: selection.checks,
      cleanUpLeftovers: v['clean-up-leftovers'] === true,
      signal: controller.signal,
      log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
    process.stdout.write(v.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, process.stdout.columns ?? 160));
    return exitCode(report);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stop();
  }
}

if (import.meta.main) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`exposedapi-apim conformance: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
