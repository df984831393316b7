// What the bundle (dist/, the operator image) runs for `cluster`, `sandbox` and `emulator`: development tools built
// from dev-cluster/ and emulator/, which scripts/build.ts leaves out of the image (see docs/architecture.md).
export async function run(): Promise<number> {
  const name = process.argv[2] ?? 'this command';
  process.stderr.write(`exposedapi-apim ${name} is a development tool and runs from a source checkout: npm run cli -- ${name}\n`);
  return 2;
}
