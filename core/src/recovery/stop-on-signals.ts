import { constants } from "node:os";
import type { ScopeHolder } from "../dstream/stream-scope.js";
import { SluiceError } from "../errors/sluice-error.js";
import { type Duration, parseDuration } from "../util/duration.js";

/** Options of `ctx.stopOnSignals`. */
export interface StopOnSignalsOptions {
  /** The signals that stop the job (default SIGTERM and SIGINT). */
  readonly signals?: readonly NodeJS.Signals[];
  /** How long the graceful stop may take before the process exits anyway (default 30 s). */
  readonly timeout?: Duration;
  /**
   * Exit the process once stopped (default true): code 0 after a clean graceful stop, 1 when the
   * job had failed or the stop timed out, 128 + the signal's number on a second signal.
   */
  readonly exit?: boolean;
  /** Where the stop is announced (default process.stderr). */
  readonly log?: { write(text: string): void };
}

/** The part of `process` the handlers use (tests pass their own). */
export interface SignalProcess {
  on(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

/**
 * `ctx.stopOnSignals()`: the first SIGTERM or SIGINT stops the job gracefully — inputs stop
 * receiving, every batch already received is processed and output, a last checkpoint is written,
 * sources are acknowledged and connectors closed — then the process exits 0. A second signal exits
 * at once; nothing is lost either way, since everything not yet checkpointed is replayed from the
 * checkpoint and the write-ahead log by the next run. Returns a function that removes the
 * handlers.
 *
 * @example
 * const ctx = await StreamingContext.getOrCreate(dir, build);
 * ctx.stopOnSignals({ timeout: "20s" });
 * await ctx.start();
 */
export function installStopOnSignals(
  context: ScopeHolder & {
    stop(options: { graceful: boolean }): Promise<void>;
    /** What the stop still waits for, said when it times out. */
    unfinishedWork?(): readonly string[];
  },
  options: StopOnSignalsOptions = {},
  host: SignalProcess = process,
): () => void {
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  const timeoutMs = parseDuration(options.timeout ?? "30s", "stopOnSignals: timeout");
  const exit = options.exit ?? true;
  const log = options.log ?? process.stderr;
  let received = 0;
  const handler = (signal: NodeJS.Signals): void => {
    received++;
    if (received > 1) {
      log.write(`${signal}: stopping at once; the next run replays what was not checkpointed\n`);
      if (exit) host.exit(128 + (constants.signals[signal] ?? 0));
      return;
    }
    log.write(
      `${signal}: stopping after the batches already received (send ${signal} again to stop at once)\n`,
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
      timer.unref?.();
    });
    void Promise.race([context.stop({ graceful: true }).then(() => "stopped" as const), timedOut])
      .then((outcome) => {
        clearTimeout(timer);
        if (outcome === "timeout") {
          const error = new SluiceError(
            "SLUICE_SHUTDOWN_TIMEOUT",
            `the graceful stop took longer than ${timeoutMs} ms; exiting anyway (the next run replays what was not checkpointed)`,
          );
          const waiting = context.unfinishedWork?.() ?? [];
          const detail =
            waiting.length === 0 ? "" : `; still waiting for:\n  ${waiting.join("\n  ")}`;
          log.write(`${error.message}${detail}\n`);
          if (exit) host.exit(1);
          return;
        }
        const failed = context.scope.firstError() !== undefined;
        if (exit) host.exit(failed ? 1 : 0);
      })
      .catch((error: unknown) => {
        log.write(
          `the graceful stop failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        if (exit) host.exit(1);
      });
  };
  for (const signal of signals) host.on(signal, handler);
  return () => {
    for (const signal of signals) host.off(signal, handler);
  };
}
