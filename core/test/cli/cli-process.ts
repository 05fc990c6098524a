// `sluice run` as a user runs it in a checkout — the `sluice` bin, from the repository root —
// with its signals and output under the test's control.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root: the CLI runs from here in a checkout. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** How the process ended and everything it printed. */
export interface CliExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A running `sluice` command. `waitFor` resolves once what it printed satisfies a predicate,
 * checked on every chunk (no polling).
 *
 * @example
 * const run = new CliProcess(["run", "job.ts"]);
 * await run.waitFor("stdout", (out) => out.includes("ready"), "the job's first line");
 * run.signal("SIGINT");
 */
export class CliProcess {
  readonly exited: Promise<CliExit>;
  readonly #child: ChildProcess;
  readonly #printed = { stdout: "", stderr: "" };
  readonly #watchers = new Set<() => void>();

  constructor(args: readonly string[]) {
    this.#child = spawn(process.execPath, ["core/bin/sluice.js", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, SLUICE_LOG_LEVEL: "error" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of ["stdout", "stderr"] as const) {
      this.#child[stream]?.setEncoding("utf8").on("data", (chunk: string) => {
        this.#printed[stream] += chunk;
        this.#notify();
      });
    }
    this.exited = new Promise((resolve, reject) => {
      this.#child.once("error", reject);
      this.#child.once("close", (code, signal) => {
        this.#notify();
        resolve({ code, signal, ...this.#printed });
      });
    });
  }

  /** Resolves once `predicate` holds for what `stream` printed; rejects if the process ends first. */
  waitFor(
    stream: "stdout" | "stderr",
    predicate: (text: string) => boolean,
    what: string,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (predicate(this.#printed[stream])) {
          this.#watchers.delete(check);
          resolve();
        } else if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
          this.#watchers.delete(check);
          reject(new Error(`sluice exited before ${what}\n${this.describe()}`));
        }
      };
      this.#watchers.add(check);
      check();
    });
  }

  /** Sends `signal` to the process unless it has ended. */
  signal(signal: NodeJS.Signals): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
  }

  /** The tail of both streams, for failure messages. */
  describe(): string {
    const { stdout, stderr } = this.#printed;
    return `--- stdout:\n${stdout.slice(-3000)}\n--- stderr:\n${stderr.slice(-3000)}`;
  }

  #notify(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }
}
