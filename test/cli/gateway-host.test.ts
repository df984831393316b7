// --gateway-host (emulator and sandbox commands): one rule for both, refusing what cannot be a certificate's DNS
// name with the fix, and the sandbox command refusing it before it starts anything (a real node takes its status URLs
// from the chart).
import t from 'tap';
import { run as runSandbox } from '../../cli/sandbox-command.ts';
import { gatewayHostProblem } from '../../emulator/gateway/gateway-host.ts';

const cases: [string, RegExp | undefined][] = [
  ['apim-emulator.azure-api.net', undefined],
  ['gateway', undefined],
  ['', /must not be empty/],
  ['10.1.2.3', /a DNS name without port or scheme, e\.g\. apim-emulator\.azure-api\.net/],
  ['apim.azure-api.net:443', /without port or scheme/],
  ['https://apim.azure-api.net', /without port or scheme/],
  ['bad_label.azure-api.net', /the label "bad_label" is not a DNS label/],
  ['-lead.example.com', /the label "-lead"/],
  [`${'a'.repeat(64)}.example.com`, /is not a DNS label/],
];
for (const [value, problem] of cases) {
  t.test(`"${value.slice(0, 40)}"`, async (t) => {
    const got = gatewayHostProblem(value);
    if (problem) t.match(got, problem);
    else t.equal(got, undefined);
  });
}

t.test('the sandbox command refuses a bad --gateway-host, and one with --node real, with exit 2 before starting', async (t) => {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    t.equal(await runSandbox(['--gateway-host', '127.0.0.1']), 2);
    t.equal(await runSandbox(['--gateway-host', 'apim-emulator.azure-api.net', '--node', 'real']), 2);
  } finally {
    process.stderr.write = write;
  }
  t.match(written[0], /--gateway-host "127\.0\.0\.1": a DNS name/);
  t.match(written[1], /--gateway-host applies to the node agent/);
});
