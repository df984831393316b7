#!/usr/bin/env node
// Entry point for `npx exposedapi-apim` / the package bin. The sources are TypeScript run through Node's own type
// stripping, which needs Node >= 22.19; the system Node may be older, so say so instead of failing obscurely.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `exposedapi-apim needs Node >= 22.19 (this is ${process.versions.node}). Run it through npm (npm run cli -- <command>),\n` +
      `which uses the project's pinned Node, or put a current LTS Node first on PATH.\n`,
  );
  process.exit(2);
}
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
