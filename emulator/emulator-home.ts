// The emulator's own directory (default ~/.cache/exposedapi-apim/emulator/): its CA, its token-signing key and the
// identity it hands out (tenant, client, secret, subscription). Created on first start and reused afterwards, so a
// restarted emulator keeps the trust (NODE_EXTRA_CA_CERTS) and credentials its clients were configured with.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CertificateAuthority } from '../certs/pki.ts';
import { createCertificateAuthority, loadCertificateAuthority } from '../certs/pki.ts';
import type { SigningKey } from './access-token.ts';
import { createSigningKeyAsync, signingKeyFromPem } from './access-token.ts';

export interface EmulatorIdentity {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  subscriptionId: string;
}

export interface EmulatorHome {
  dir: string;
  caFile: string;
  ca: CertificateAuthority;
  signingKey: SigningKey;
  identity: EmulatorIdentity;
}

export function defaultEmulatorDir(): string {
  return join(homedir(), '.cache', 'exposedapi-apim', 'emulator');
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes through a temporary file so a crash never leaves half a key behind. */
async function writeAtomic(path: string, content: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, path);
}

/**
 * The signing key for homes this process creates. An RSA key costs tens to hundreds of milliseconds to generate, and
 * a test file starts many emulators, each in a fresh home: they share one key (their tenants differ, and ARM checks
 * the tenant of every token, so one emulator still refuses another's tokens).
 */
let freshKey: Promise<SigningKey> | undefined;

export async function openEmulatorHome(dir: string): Promise<EmulatorHome> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const signingFile = join(dir, 'token-signing.key');
  const signingPem = await readIfExists(signingFile);
  // A home made before the emulator signed RS256 holds an EC key: it is replaced, because the gateway's validate-jwt
  // (like APIM's) refuses ES256 tokens. A client still holding a token of the old key gets 401 until it asks anew.
  const stored = signingPem !== undefined ? signingKeyFromPem(signingPem) : undefined;
  // Generated while the CA is made or loaded.
  const pending = stored?.alg === 'RS256' ? undefined : (freshKey ??= createSigningKeyAsync());
  const caFile = join(dir, 'ca.crt');
  const caKeyFile = join(dir, 'ca.key');
  const certPem = await readIfExists(caFile);
  const keyPem = await readIfExists(caKeyFile);
  let ca: CertificateAuthority;
  if (certPem !== undefined && keyPem !== undefined) {
    ca = await loadCertificateAuthority(certPem, keyPem);
  } else {
    ca = await createCertificateAuthority('exposedapi-apim emulator CA');
    await writeAtomic(caKeyFile, ca.keyPem);
    await writeAtomic(caFile, ca.certPem, 0o644);
  }

  let signingKey: SigningKey;
  if (stored && !pending) {
    signingKey = stored;
  } else {
    signingKey = await pending!;
    await writeAtomic(signingFile, signingKey.privateKeyPem);
  }

  const identityFile = join(dir, 'identity.json');
  const identityText = await readIfExists(identityFile);
  let identity: EmulatorIdentity;
  if (identityText !== undefined) {
    identity = JSON.parse(identityText) as EmulatorIdentity;
  } else {
    identity = {
      tenantId: randomUUID(),
      clientId: randomUUID(),
      clientSecret: randomBytes(30).toString('base64url'),
      subscriptionId: randomUUID(),
    };
    await writeAtomic(identityFile, `${JSON.stringify(identity, null, 2)}\n`);
  }
  return { dir, caFile, ca, signingKey, identity };
}
