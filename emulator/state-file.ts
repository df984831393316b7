// Optional persistence of the service's entities to one JSON file: loaded on start, written shortly after changes
// (debounced, so an import of hundreds of operations is one write) and on stop. Long-running operations in flight
// are not persisted: a restart ends them, as a restart of a real region would fail them.
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { ServiceData } from './service-model.ts';
import { emptyServiceData } from './service-model.ts';

export async function loadStateFile(path: string): Promise<ServiceData | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<ServiceData>;
  // Files written by an older emulator may lack newer collections.
  return { ...emptyServiceData(), ...parsed };
}

export class StateWriter {
  readonly #path: string;
  readonly #delayMs: number;
  readonly #snapshot: () => ServiceData;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(path: string, snapshot: () => ServiceData, delayMs = 200) {
    this.#path = path;
    this.#snapshot = snapshot;
    this.#delayMs = delayMs;
  }

  schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#delayMs);
    this.#timer.unref();
  }

  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const text = JSON.stringify(this.#snapshot());
    const write = async (): Promise<void> => {
      const tmp = `${this.#path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, this.#path);
    };
    this.#writing = this.#writing.then(write, write);
    await this.#writing;
  }
}
