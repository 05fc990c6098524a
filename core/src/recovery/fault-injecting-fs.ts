import type { DurableFile, DurableFileSystem } from "./durable-fs.js";
import { nodeFileSystem } from "./durable-fs.js";

/**
 * A `DurableFileSystem` for tests that turns the disk full on demand: once `fillDisk()` was called,
 * writes beyond the remaining budget write what fits and then fail with an `ENOSPC` error, as a
 * real full disk does. Everything else goes to the wrapped file system.
 *
 * @example
 * const fs = new FaultInjectingFileSystem();
 * fs.fillDisk({ freeBytes: 1024 });
 * // ... a write-ahead log on `fs` now fails with SLUICE_DISK_FULL past 1 KiB
 * fs.freeDisk();
 */
export class FaultInjectingFileSystem implements DurableFileSystem {
  #freeBytes = Number.POSITIVE_INFINITY;
  #writes = 0;
  #affects: (path: string) => boolean = () => true;

  constructor(private readonly inner: DurableFileSystem = nodeFileSystem) {}

  /**
   * Makes writes fail with `ENOSPC` once `freeBytes` more bytes were written (default 0); with
   * `only`, just the writes to the files it accepts (say, checkpoints but not the log).
   */
  fillDisk(options: { freeBytes?: number; only?: (path: string) => boolean } = {}): void {
    this.#freeBytes = options.freeBytes ?? 0;
    this.#affects = options.only ?? (() => true);
  }

  /** Lets writes succeed again. */
  freeDisk(): void {
    this.#freeBytes = Number.POSITIVE_INFINITY;
  }

  /** How many write calls failed with `ENOSPC` so far. */
  get failedWrites(): number {
    return this.#writes;
  }

  mkdir(path: string): Promise<void> {
    return this.inner.mkdir(path);
  }

  list(path: string): Promise<string[]> {
    return this.inner.list(path);
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.inner.readFile(path);
  }

  size(path: string): Promise<number | undefined> {
    return this.inner.size(path);
  }

  async open(path: string, mode: "create" | "append"): Promise<DurableFile> {
    const file = await this.inner.open(path, mode);
    return {
      write: async (bytes) => {
        if (!this.#affects(path)) {
          await file.write(bytes);
          return;
        }
        if (bytes.byteLength <= this.#freeBytes) {
          this.#freeBytes -= bytes.byteLength;
          await file.write(bytes);
          return;
        }
        // A full disk takes what fits, then refuses the rest: the file ends in a torn write.
        const fits = Math.max(0, Math.floor(this.#freeBytes));
        if (fits > 0) await file.write(bytes.subarray(0, fits));
        this.#freeBytes = 0;
        this.#writes++;
        throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), {
          code: "ENOSPC",
          errno: -28,
          syscall: "write",
          path,
        });
      },
      sync: () => file.sync(),
      close: () => file.close(),
    };
  }

  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }

  remove(path: string): Promise<void> {
    return this.inner.remove(path);
  }

  syncDirectory(path: string): Promise<void> {
    return this.inner.syncDirectory(path);
  }
}
