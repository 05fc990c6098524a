// Runs `sluice run <job>` the way a user does in a checkout without a build — the `sluice` bin,
// which runs the TypeScript sources through tsx — from the repository root, and watches what it
// prints.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root: the CLI runs from here so tsx finds tsconfig.json's package paths. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A sample's file, as an absolute path (`samplePath("iot-ingest", "job.ts")`). */
export function samplePath(sample: string, ...parts: string[]): string {
  return fileURLToPath(new URL(["../../samples", sample, ...parts].join("/"), import.meta.url));
}

/** How a `sluice` process ended and everything it printed. */
export interface SluiceExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A running `sluice run` process. `waitForStdout` resolves once the output so far satisfies a
 * predicate (no polling: it is checked on every chunk printed); `stop` sends SIGINT, which the
 * CLI answers with a graceful stop.
 */
export class SluiceProcess {
  readonly exited: Promise<SluiceExit>;
  #stdout = "";
  #stderr = "";
  readonly #child: ChildProcess;
  readonly #watchers = new Set<() => void>();

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.#child = spawn(process.execPath, ["core/bin/sluice.js", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
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
        this.#notify();
        resolve({ code, signal, stdout: this.#stdout, stderr: this.#stderr });
      });
    });
  }

  /** What the process printed on stdout so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** What the process printed on stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /**
   * Resolves once `predicate(stdout)` holds; rejects when the process exits first or after
   * `timeoutMs`, showing what it printed.
   */
  waitForStdout(predicate: (stdout: string) => boolean, what: string, timeoutMs = 30_000) {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (predicate(this.#stdout)) finish(undefined);
        else if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
          finish(new Error(`sluice exited before ${what}\n${this.describe()}`));
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

  /** Asks for a graceful stop (SIGINT, as Ctrl-C does) and resolves with how it ended. */
  async stop(): Promise<SluiceExit> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill("SIGINT");
    }
    return this.exited;
  }

  /** Ends the process at once (test cleanup); harmless when it has exited. */
  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill("SIGKILL");
    }
  }

  /** The tail of both streams, for failure messages. */
  describe(): string {
    return `--- stdout (last 3000 characters):\n${this.#stdout.slice(-3000)}\n--- stderr (last 3000 characters):\n${this.#stderr.slice(-3000)}`;
  }

  #notify(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }
}

/**
 * Runs `sluice` with `args` until it exits by itself (a bounded job), rejecting after
 * `timeoutMs` with what it printed.
 */
export async function runSluice(
  args: readonly string[],
  timeoutMs = 60_000,
  env: NodeJS.ProcessEnv = {},
): Promise<SluiceExit> {
  const sluice = new SluiceProcess(args, env);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const shown = sluice.describe();
      sluice.kill();
      reject(new Error(`sluice ${args.join(" ")} did not exit within ${timeoutMs} ms\n${shown}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([sluice.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
