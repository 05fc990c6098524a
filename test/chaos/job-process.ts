// Runs the chaos job as a process of its own, the way a deployment does — node with tsx and the
// `sluice-source` export condition, from the repository root — and watches its progress lines.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChaosJobSettings } from "./jobs/word-count-settings.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A chaos job module and the environment variable that carries its settings as JSON. */
export interface ChaosJobModule {
  readonly path: string;
  readonly settingsVariable: string;
  /** The job's `SLUICE_LOG_LEVEL` (default `error`); its log goes to stderr. */
  readonly logLevel?: string;
}

/** The word count most chaos tests run (`jobs/word-count.ts`, settings in CHAOS_JOB). */
export const WORD_COUNT_JOB: ChaosJobModule = {
  path: fileURLToPath(new URL("./jobs/word-count.ts", import.meta.url)),
  settingsVariable: "CHAOS_JOB",
};

/** How a job process ended. */
export interface JobExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running chaos job. */
export class JobProcess {
  readonly exited: Promise<JobExit>;
  readonly #child: ChildProcess;
  readonly #watchers = new Set<() => void>();
  #stdout = "";
  #stderr = "";
  #exit: JobExit | undefined;

  constructor(settings: ChaosJobSettings | object, job: ChaosJobModule = WORD_COUNT_JOB) {
    const env = {
      ...process.env,
      [job.settingsVariable]: JSON.stringify(settings),
      SLUICE_LOG_LEVEL: job.logLevel ?? "error",
    };
    this.#child = spawn(
      process.execPath,
      ["--conditions=sluice-source", "--import", "tsx", job.path],
      { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    this.#child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      this.#stdout += chunk;
      this.#notify();
    });
    this.#child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.#stderr += chunk;
      this.#notify();
    });
    this.exited = new Promise((resolve, reject) => {
      this.#child.once("error", reject);
      this.#child.once("close", (code, signal) => {
        this.#exit = { code, signal };
        this.#notify();
        resolve({ code, signal });
      });
    });
  }

  /** True once the process has ended. */
  get hasExited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /** How the process ended, once it has. */
  get exitStatus(): JobExit | undefined {
    return this.#exit;
  }

  get stdout(): string {
    return this.#stdout;
  }

  /** The process id (undefined if it did not start). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** The batches this process completed, from its progress lines. */
  get batches(): { time: number; records: number }[] {
    return [...this.#stdout.matchAll(/^batch (\d+) (\d+)$/gm)].map((match) => ({
      time: Number(match[1]),
      records: Number(match[2]),
    }));
  }

  /** What the process said at start about its recovery (`null` on a first run). */
  get recovery(): { replayedBatches: number[]; checkpointTime: number } | null | undefined {
    const match = /^started (.*)$/m.exec(this.#stdout);
    return match === null ? undefined : (JSON.parse(match[1] as string) as never);
  }

  /** Resolves once `predicate(stdout)` holds; rejects when the process exits first or after `timeoutMs`. */
  waitFor(predicate: (stdout: string) => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (predicate(this.#stdout)) finish(undefined);
        else if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
          finish(new Error(`the job exited before ${what}\n${this.describe()}`));
        }
      };
      const timer = setTimeout(
        () => finish(new Error(`no ${what} within ${timeoutMs} ms\n${this.describe()}`)),
        timeoutMs,
      );
      const finish = (error: Error | undefined): void => {
        clearTimeout(timer);
        this.#watchers.delete(check);
        if (error === undefined) resolve();
        else reject(error);
      };
      this.#watchers.add(check);
      check();
    });
  }

  /**
   * Resolves once `condition()` holds, looking again on every output of the process and every
   * 100 ms (for conditions on files it writes); rejects when the process exits first or after
   * `timeoutMs`.
   */
  poll(
    condition: () => boolean | Promise<boolean>,
    what: string,
    timeoutMs: number,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      let checking = false;
      const check = async (): Promise<void> => {
        if (checking) return;
        checking = true;
        try {
          if (await condition()) finish(undefined);
          else if (this.hasExited) {
            finish(new Error(`the job exited before ${what}\n${this.describe()}`));
          }
        } catch (error) {
          finish(error instanceof Error ? error : new Error(String(error)));
        } finally {
          checking = false;
        }
      };
      const interval = setInterval(() => void check(), 100);
      const timer = setTimeout(
        () => finish(new Error(`no ${what} within ${timeoutMs} ms\n${this.describe()}`)),
        timeoutMs,
      );
      const watcher = (): void => void check();
      const finish = (error: Error | undefined): void => {
        clearTimeout(timer);
        clearInterval(interval);
        this.#watchers.delete(watcher);
        if (error === undefined) resolve();
        else reject(error);
      };
      this.#watchers.add(watcher);
      void check();
    });
  }

  /** Sends `signal` (harmless once the process has exited). */
  signal(signal: NodeJS.Signals): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
  }

  /** The tail of both streams, for failure messages. */
  describe(): string {
    return `--- stdout (tail):\n${this.#stdout.slice(-2000)}\n--- stderr (tail):\n${this.#stderr.slice(-4000)}`;
  }

  #notify(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }
}

/** A small deterministic random number generator (mulberry32), so a failing run can be replayed. */
export class SeededRandom {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
}
