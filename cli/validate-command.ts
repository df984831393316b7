// `exposedapi-apim validate PATH... [--fetch] [--json]`: the webhook's rules, offline, for CI pipelines.
// Exit codes: 0 all valid, 1 something invalid, 2 usage error.
import { parseArgs } from 'node:util';
import { EnvReader, readOutboundPolicy, readSpecFetchOptions, readTenancyPolicy, readApimSku } from '../core/operator-config.ts';
import { SpecFetcher } from '../core/spec-fetch.ts';
import { defaultValidationContext } from '../core/validate-exposedapi.ts';
import { expandPaths, readManifestFile, type ManifestDocument, type ManifestProblem } from './manifest-documents.ts';
import { renderReport, validateDocuments } from './validate-files.ts';
import { errorMessage } from '../core/kube/errors.ts';

const HELP = `usage: exposedapi-apim validate [--fetch] [--json] PATH...

Checks ExposedAPI manifests (YAML, multi-document YAML or JSON files, or folders of them) with exactly the admission
webhook's rules. Other kinds are skipped. Paths must be unique among the given files.

  --fetch   also fetch remote specification URLs and check the documents (same guard as the webhook:
            https only, public addresses only, unless SPEC_FETCH_ALLOW_HTTP / SPEC_FETCH_ALLOW_PRIVATE)

spec.apim.backend.url and the JWT discovery URL are judged as the webhook does: https and public hosts unless
OUTBOUND_ALLOW_HTTP / OUTBOUND_ALLOW_PRIVATE are true in the environment, and TENANCY_POLICY (the operator's
per-namespace policy, YAML or JSON) is applied when set.
  --json    print the report as JSON on stdout

Exit codes: 0 valid, 1 invalid, 2 usage error.
`;

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { fetch: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    process.stderr.write(`exposedapi-apim validate: ${errorMessage(e)}\n\n${HELP}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (parsed.positionals.length === 0) {
    process.stderr.write(`exposedapi-apim validate: no PATH given\n\n${HELP}`);
    return 2;
  }
  const { files, missing } = expandPaths(parsed.positionals);
  if (missing.length > 0) {
    process.stderr.write(`exposedapi-apim validate: no such file or folder: ${missing.join(', ')}\n`);
    return 2;
  }
  const documents: ManifestDocument[] = [];
  const problems: ManifestProblem[] = [];
  for (const f of files) {
    try {
      const r = readManifestFile(f);
      documents.push(...r.documents);
      problems.push(...r.problems);
    } catch (e) {
      problems.push({ file: f, message: `cannot read: ${errorMessage(e)}` });
    }
  }
  const env = new EnvReader(process.env);
  const specFetch = readSpecFetchOptions(env);
  const fetcher = parsed.values.fetch ? new SpecFetcher(specFetch) : undefined;
  const outbound = readOutboundPolicy(env);
  const tenancy = readTenancyPolicy(env);
  // The same tier check as admission when the pipeline sets APIM_SKU.
  const apimSku = readApimSku(env);
  if (env.errors.length > 0) {
    process.stderr.write(`exposedapi-apim validate: invalid configuration:\n${env.errors.map((e) => `  - ${e}`).join('\n')}\n`);
    return 2;
  }
  const report = await validateDocuments(documents, problems, defaultValidationContext({ fetch: fetcher ? (u) => fetcher.fetch(u) : undefined, allowPrivateFetch: specFetch.allowPrivate, outbound, tenancy, ...(apimSku ? { apimSku } : {}) }));
  if (parsed.values.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else {
    const { stdout, stderr } = renderReport(report);
    process.stdout.write(stdout);
    process.stderr.write(stderr);
  }
  return report.valid ? 0 : 1;
}
