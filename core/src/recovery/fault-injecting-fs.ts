import type { DurableFile, DurableFileSystem } from "./durable-fs.js";
import { nodeFileSystem } from "./durable-fs.js";

/** One step a `DurableFileSystem` takes, named by its method (`"open"` creates or opens a file). */
export type FileStep =
  | "mkdir"
  | "open"
  | "write"
  | "sync"
  | "close"
  | "rename"
  | "remove"
  | "syncDirectory";

/** A step that was taken, in the order taken (see `FaultInjectingFileSystem.steps`). */
export interface TakenStep {
  readonly step: FileStep;
  readonly path: string;
}

/** Where a simulated crash happens: right after the `occurrence`-th step that matches. */
export interface CrashPoint {
  readonly step: FileStep;
  /** Only steps on paths containing this text (or matching this pattern) count. */
  readonly path?: string | RegExp;
  /** Which matching step (default 1, the first). */
  readonly occurrence?: number;
  /** Counting starts only after a step matching this one was taken. */
  readonly after?: { readonly step: FileStep; readonly path?: string | RegExp };
}

const matches = (
  taken: TakenStep,
  wanted: { readonly step: FileStep; readonly path?: string | RegExp },
): boolean =>
  taken.step === wanted.step &&
  (wanted.path === undefined ||
    (typeof wanted.path === "string"
      ? taken.path.includes(wanted.path)
      : wanted.path.test(taken.path)));

/**
 * A `DurableFileSystem` for tests that fails the way a disk or a process does, on demand: once
 * `fillDisk()` was called, writes beyond the remaining budget write what fits and then fail with
 * an `ENOSPC` error, as a real full disk does; with `crashAfter(point)`, the process "dies" right
 * after a chosen step (by default every later step hangs, as if nothing ran any more; a job
 * process passes a `crash` that kills itself). It records every step it takes (`steps`), so a
 * test can crash after each step of a multi-step write in turn. Everything else goes to the
 * wrapped file system.
 *
 * @example
 * const fs = new FaultInjectingFileSystem();
 * fs.crashAfter({ step: "open", path: "segment-" }); // a crash right after a segment is created
 * fs.fillDisk({ freeBytes: 1024 });                  // ENOSPC past 1 KiB
 */
export class FaultInjectingFileSystem implements DurableFileSystem {
  #freeBytes = Number.POSITIVE_INFINITY;
  #writes = 0;
  #affects: (path: string) => boolean = () => true;
  readonly #steps: TakenStep[] = [];
  #crash: { point: CrashPoint; armed: boolean; seen: number; crash: () => void } | undefined;
  #crashed = false;
  #signalCrash: () => void = () => undefined;
  readonly #whenCrashed = new Promise<void>((resolve) => {
    this.#signalCrash = resolve;
  });

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

  /**
   * Simulates a crash right after the step `point` names has completed: `crash` is called
   * (default: nothing), and from then on no step of this file system settles any more, as if the
   * process were gone. What reached the wrapped file system stays, as after a real crash.
   *
   * @example
   * fs.crashAfter({ step: "write", path: "/wal/", occurrence: 2 }, () => process.kill(process.pid, "SIGKILL"));
   */
  crashAfter(point: CrashPoint, crash: () => void = () => undefined): void {
    this.#crash = { point, armed: point.after === undefined, seen: 0, crash };
  }

  /** True once a `crashAfter` point was reached. */
  get crashed(): boolean {
    return this.#crashed;
  }

  /** Settles once a `crashAfter` point was reached. */
  whenCrashed(): Promise<void> {
    return this.#whenCrashed;
  }

  /** Every step taken so far, in order. */
  get steps(): readonly TakenStep[] {
    return this.#steps;
  }

  /** How many write calls failed with `ENOSPC` so far. */
  get failedWrites(): number {
    return this.#writes;
  }

  mkdir(path: string): Promise<void> {
    return this.#step("mkdir", path, () => this.inner.mkdir(path));
  }

  list(path: string): Promise<string[]> {
    return this.#unlessCrashed(() => this.inner.list(path));
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.#unlessCrashed(() => this.inner.readFile(path));
  }

  size(path: string): Promise<number | undefined> {
    return this.#unlessCrashed(() => this.inner.size(path));
  }

  async open(path: string, mode: "create" | "append"): Promise<DurableFile> {
    const file = await this.#step("open", path, () => this.inner.open(path, mode));
    return {
      write: (bytes) => this.#step("write", path, () => this.#write(file, path, bytes)),
      sync: () => this.#step("sync", path, () => file.sync()),
      close: () => this.#step("close", path, () => file.close()),
    };
  }

  rename(from: string, to: string): Promise<void> {
    return this.#step("rename", to, () => this.inner.rename(from, to));
  }

  remove(path: string): Promise<void> {
    return this.#step("remove", path, () => this.inner.remove(path));
  }

  syncDirectory(path: string): Promise<void> {
    return this.#step("syncDirectory", path, () => this.inner.syncDirectory(path));
  }

  async #write(file: DurableFile, path: string, bytes: Uint8Array): Promise<void> {
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
  }

  async #step<T>(step: FileStep, path: string, run: () => Promise<T>): Promise<T> {
    const result = await this.#unlessCrashed(run);
    const taken = { step, path };
    this.#steps.push(taken);
    const crash = this.#crash;
    if (crash !== undefined && !this.#crashed) {
      if (!crash.armed && crash.point.after !== undefined && matches(taken, crash.point.after)) {
        crash.armed = true;
      } else if (crash.armed && matches(taken, crash.point)) {
        crash.seen++;
        if (crash.seen === (crash.point.occurrence ?? 1)) {
          this.#crashed = true;
          this.#signalCrash();
          crash.crash();
          return never();
        }
      }
    }
    return result;
  }

  #unlessCrashed<T>(run: () => Promise<T>): Promise<T> {
    return this.#crashed ? never() : run();
  }
}

// A crashed process answers nothing: its pending work never settles.
function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
