// Fetching a link import's document, as the real service does from its side. Loopback is allowed on purpose: tests
// and the sandbox serve their documents locally. Bounded in time and size so a bad link fails the import instead of
// hanging it.

const TIMEOUT_MS = 30_000;
const MAX_BYTES = 64 * 1024 * 1024;

export async function fetchDocument(url: string): Promise<string> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`only http and https links are supported, not '${u.protocol}'`);
  let res: Response;
  try {
    res = await fetch(u, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(cause?.code ?? cause?.message ?? (err as Error).message);
  }
  if (!res.ok) throw new Error(`the server answered ${res.status} ${res.statusText}`.trim());
  const length = Number(res.headers.get('content-length') ?? '0');
  if (length > MAX_BYTES) throw new Error(`the document is ${length} bytes, more than the emulator's ${MAX_BYTES}`);
  const text = await res.text();
  if (Buffer.byteLength(text) > MAX_BYTES) throw new Error(`the document is larger than the emulator's ${MAX_BYTES} bytes`);
  return text;
}
