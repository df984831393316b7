// `exposedapi-apim emulator`: the local Azure API Management emulator as a process. Prints one JSON line with the
// connection details when ready and serves until SIGINT/SIGTERM. Exit codes: 0 stopped by a signal, 2 usage error.
import { parseArgs } from 'node:util';
import type { ApimEmulatorOptions } from '../emulator/apim-emulator.ts';
import { startApimEmulator } from '../emulator/apim-emulator.ts';
import { defaultEmulatorDir } from '../emulator/emulator-home.ts';
import type { ImportDuration } from '../emulator/import-duration.ts';
import { errorMessage } from '../core/kube/errors.ts';
import { gatewayHostProblem } from '../emulator/gateway/gateway-host.ts';

const HELP = `usage: exposedapi-apim emulator [--port N] [--host ADDR] [--state FILE] [--import-delay MS]
                                [--import-duration MS|realistic] [--not-found-after-import MS]
                                [--async-mode location|azure-async-operation] [--dir DIR]
                                [--sku NAME] [--hostname NAME]... [--throttle] [--verbose]
                                [--gateway-port N] [--gateway-host NAME]

Serves, over HTTPS, a local emulator of the Azure API Management management plane (ARM api-version 2024-05-01) with
its own Entra ID token endpoint, and on a second port its gateway: the published APIs with their policies enforced
(docs/gateway.md). The service reports the gateway as its gatewayUrl. When ready it prints one JSON line on stdout:
  {"url","gatewayUrl","caFile","authorityHost","tenantId","clientId","clientSecret","subscriptionId","resourceGroup",
   "serviceName"}
and one line on stderr naming both URLs.
Scripts that read that line through npm run it as \`npm run -s cli -- emulator\`: without -s, npm's own lines come first.
Point @azure/arm-apimanagement at "url" (client option endpoint), @azure/identity at "authorityHost" with
disableInstanceDiscovery: true, and trust "caFile" (NODE_EXTRA_CA_CERTS or tlsOptions.ca).

  --port N            port to listen on (default 0: any free port)
  --host ADDR         address to listen on (default 127.0.0.1; the /_emulator admin API has no authentication)
  --state FILE        load entities from FILE at start and save them there on change
  --import-delay MS   how long other long-running writes (named values, fragments) stay in progress (default
                      100); given alone, also the fixed duration of imports
  --import-duration D how long imports stay in progress: MS (fixed) or "realistic" (the default here: 15 s plus
                      1.35 s per KB of document, ~8 min for TMF620; see emulator/import-duration.ts)
  --not-found-after-import MS
                      for this long after an import completes, the API answers 404 "Api not found." (default 0)
  --async-mode MODE   location (202 + Location, as recorded from the real service; default) or
                      azure-async-operation (201 + Azure-AsyncOperation status URL)
  --dir DIR           where the CA, token-signing key and identity are kept (default ${defaultEmulatorDir()})
  --sku NAME          service SKU: Consumption, Developer (default), Basic, Standard, Premium, BasicV2, StandardV2,
                      PremiumV2 (Consumption refuses rate-limit-by-key and quota-by-key, the v2 tiers quota-by-key)
  --hostname NAME     extra DNS name or IP for the serving certificate (repeatable)
  --throttle          enforce ARM throttling (token buckets per principal) from the start
  --verbose           log each request to stderr
  --gateway-port N    the gateway's port (default 0: any free port)
  --gateway-host NAME host name in gatewayUrl, added to the serving certificate (default: the listening address),
                      e.g. apim-emulator.azure-api.net for the real service's form; the caller resolves it
                      (curl --resolve NAME:PORT:127.0.0.1)
`;

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        state: { type: 'string' },
        'import-delay': { type: 'string' },
        'import-duration': { type: 'string' },
        'not-found-after-import': { type: 'string' },
        'async-mode': { type: 'string' },
        dir: { type: 'string' },
        sku: { type: 'string' },
        hostname: { type: 'string', multiple: true },
        throttle: { type: 'boolean' },
        verbose: { type: 'boolean' },
        'gateway-port': { type: 'string' },
        'gateway-host': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`exposedapi-apim emulator: ${errorMessage(e)}\n\n${HELP}`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const problems: string[] = [];
  const int = (name: string, raw: string | undefined, max: number): number | undefined => {
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw) || Number(raw) > max) {
      problems.push(`--${name} must be an integer from 0 to ${max}, got "${raw}"`);
      return undefined;
    }
    return Number(raw);
  };
  const port = int('port', v.port, 65535);
  const gatewayPort = int('gateway-port', v['gateway-port'], 65535);
  const gatewayHost = v['gateway-host'];
  const hostProblem = gatewayHost === undefined ? undefined : gatewayHostProblem(gatewayHost);
  if (hostProblem) problems.push(`--gateway-host ${hostProblem}`);
  const importDelayMs = int('import-delay', v['import-delay'], 3_600_000);
  const notFoundAfterImportMs = int('not-found-after-import', v['not-found-after-import'], 3_600_000);
  const rawDuration = v['import-duration'];
  // The process is what people run to see the system as it behaves against Azure: imports are realistic unless
  // asked otherwise (an explicit --import-delay alone keeps the older fixed behaviour).
  let importDurationMs: ImportDuration | undefined = importDelayMs === undefined ? 'realistic' : undefined;
  if (rawDuration !== undefined) importDurationMs = rawDuration === 'realistic' ? 'realistic' : int('import-duration', rawDuration, 3_600_000);
  const asyncMode = v['async-mode'];
  if (asyncMode !== undefined && asyncMode !== 'location' && asyncMode !== 'azure-async-operation') {
    problems.push(`--async-mode must be "location" or "azure-async-operation", got "${asyncMode}"`);
  }
  if (problems.length > 0) {
    process.stderr.write(`exposedapi-apim emulator: ${problems.join('; ')}\n\n${HELP}`);
    return 2;
  }

  const options: ApimEmulatorOptions = {};
  if (port !== undefined) options.port = port;
  if (v.host !== undefined) options.host = v.host;
  if (v.state !== undefined) options.stateFile = v.state;
  if (importDelayMs !== undefined) options.importDelayMs = importDelayMs;
  if (importDurationMs !== undefined) options.importDurationMs = importDurationMs;
  if (notFoundAfterImportMs !== undefined) options.notFoundAfterImportMs = notFoundAfterImportMs;
  if (asyncMode === 'location' || asyncMode === 'azure-async-operation') options.asyncMode = asyncMode;
  if (v.dir !== undefined) options.dir = v.dir;
  if (v.sku !== undefined) options.sku = v.sku;
  if (v.hostname !== undefined) options.hostnames = v.hostname;
  if (v.throttle) options.throttling = { enabled: true };
  if (gatewayPort !== undefined) options.gatewayPort = gatewayPort;
  if (gatewayHost !== undefined) options.gatewayHost = gatewayHost;
  if (v.verbose) options.log = (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

  const emulator = await startApimEmulator(options);
  process.stdout.write(`${JSON.stringify(emulator.info())}\n`);
  process.stderr.write(`exposedapi-apim emulator: management ${emulator.url}, gateway ${emulator.gatewayUrl} (trust ${emulator.caFile})\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.stderr.write(`exposedapi-apim emulator: ${signal}, stopping\n`);
  await emulator.close();
  return 0;
}

// Also runnable on its own (`node cli/emulator-command.ts …`), e.g. by the sandbox without the dispatcher.
if (import.meta.main) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`exposedapi-apim emulator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
