// The image's SBOM (CycloneDX JSON): npm's own (`npm sbom --sbom-format cyclonedx --omit dev`: the packages the
// bundle is built from) plus what the image holds beside the bundle: the Node binary and the Debian packages its
// libraries and CA certificates come from. npm's document is made a function of its inputs: its timestamp becomes the
// image's creation time, its random serial number one derived from the content, and the top component's name, which
// npm takes from the checkout's folder name, the package's name.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DebianPackage } from './rootfs.ts';

export interface SbomInputs {
  repo: string;
  packageName: string;
  created: string;
  node: { version: string; sha256: string; npmPackage: string };
  packages: DebianPackage[];
}

type Json = Record<string, any>;

/** Debian's release for purls ("debian-12"), from the build machine's os-release. */
function distro(): string {
  const text = readFileSync('/etc/os-release', 'utf8');
  const id = /^ID=(.*)$/m.exec(text)?.[1]?.replace(/"/g, '') ?? 'debian';
  const version = /^VERSION_ID=(.*)$/m.exec(text)?.[1]?.replace(/"/g, '');
  return version ? `${id}-${version}` : id;
}

/** A package URL version: "+" and other reserved characters are percent-encoded (purl spec). */
const purlPart = (s: string): string => encodeURIComponent(s);

export function npmSbom(repo: string): Json {
  const r = spawnSync('npm', ['sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev'], { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`npm sbom: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`npm sbom --sbom-format cyclonedx --omit dev: exit ${r.status}: ${r.stderr.trim()} (it reads node_modules: run npm ci first)`);
  return JSON.parse(r.stdout) as Json;
}

export function imageSbom(i: SbomInputs): string {
  const bom = npmSbom(i.repo);
  bom['metadata']['timestamp'] = i.created;
  bom['metadata']['component']['name'] = i.packageName;
  const root = bom['metadata']['component']['bom-ref'] as string;
  const os = distro();
  const added: Json[] = [
    {
      'bom-ref': `node@${i.node.version}`,
      type: 'application',
      name: 'node',
      version: i.node.version,
      description: `the Node.js runtime, from the npm package ${i.node.npmPackage}@${i.node.version}`,
      purl: `pkg:npm/${i.node.npmPackage}@${i.node.version}`,
      hashes: [{ alg: 'SHA-256', content: i.node.sha256 }],
      licenses: [{ license: { id: 'MIT' } }],
    },
    ...i.packages.map((p) => ({
      'bom-ref': `deb:${p.name}@${p.version}`,
      type: p.name === 'ca-certificates' ? 'data' : 'library',
      name: p.name,
      version: p.version,
      purl: `pkg:deb/debian/${p.name}@${purlPart(p.version)}?arch=${p.architecture}&distro=${os}`,
    })),
  ];
  bom['components'] = [...(bom['components'] as Json[]), ...added].sort((a, b) => (a['bom-ref'] < b['bom-ref'] ? -1 : a['bom-ref'] > b['bom-ref'] ? 1 : 0));
  const deps = bom['dependencies'] as { ref: string; dependsOn: string[] }[];
  const top = deps.find((d) => d.ref === root);
  if (top) top.dependsOn = [...top.dependsOn, ...added.map((c) => c['bom-ref'] as string)].sort();
  // A serial number is a UUID that names this BOM: derived from its content, two builds of the same inputs agree.
  bom['serialNumber'] = '';
  const h = createHash('sha256').update(JSON.stringify(bom)).digest('hex');
  bom['serialNumber'] = `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return `${JSON.stringify(bom, null, 2)}\n`;
}
