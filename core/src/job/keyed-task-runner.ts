import type { KeyedExchange } from "../connector/keyed-exchange.js";
import { KeyedTask, type KeyedTaskSpec } from "./keyed-task.js";

/** What the runner needs besides the exchange: each task's spec, and where failures go. */
export interface KeyedTaskRunnerDeps {
  readonly specOf: (partition: number, exchange: KeyedExchange) => KeyedTaskSpec;
  readonly reportError: (error: unknown) => void;
  /** Told the keyed partitions with a task running, after every change. */
  readonly reportPartitions: (partitions: readonly number[]) => void;
}

interface Running {
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

/**
 * Runs one `KeyedTask` per keyed partition this process owns, following the exchange's
 * assignments: each assignment stops every task and starts one per partition given (each
 * restores its partition's state); a partition taken away stops its task (what it did not commit, the next owner redoes). A task
 * that fails reports the error to the context, which fails the job.
 *
 * @example
 * const runner = new KeyedTaskRunner({ specOf, reportError });
 * await runner.start(exchange);
 */
export class KeyedTaskRunner {
  readonly #deps: KeyedTaskRunnerDeps;
  readonly #running = new Map<number, Running>();
  #exchange: KeyedExchange | undefined;
  #unlisten: (() => void) | undefined;
  // Assignments apply one after the other: a task stops before it may start again.
  #changes: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(deps: KeyedTaskRunnerDeps) {
    this.#deps = deps;
  }

  /** The keyed partitions with a task running now. */
  partitions(): number[] {
    return [...this.#running.keys()].sort((a, b) => a - b);
  }

  /** Starts following the exchange's assignments. */
  start(exchange: KeyedExchange): void {
    this.#exchange = exchange;
    this.#unlisten = exchange.onAssignment((partitions) => {
      this.#changes = this.#changes.then(() => this.#assign(partitions));
    });
  }

  /** Stops every task and waits for them. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unlisten?.();
    await this.#changes;
    await this.#assign([]);
  }

  async #assign(partitions: readonly number[]): Promise<void> {
    const wanted = new Set(this.#stopped ? [] : partitions);
    const stopping: Promise<void>[] = [];
    // Every task stops, kept partitions too: after an (eager) rebalance the exchange reads each
    // partition again from its last commit, so each task restores from there.
    for (const [partition, running] of this.#running) {
      running.abort.abort();
      stopping.push(running.done);
      this.#running.delete(partition);
    }
    await Promise.all(stopping);
    const exchange = this.#exchange;
    if (exchange === undefined) return;
    for (const partition of wanted) {
      const abort = new AbortController();
      const task = new KeyedTask(this.#deps.specOf(partition, exchange));
      const done = task.run(abort.signal).catch((error: unknown) => {
        if (!abort.signal.aborted) this.#deps.reportError(error);
      });
      this.#running.set(partition, { abort, done });
    }
    this.#deps.reportPartitions(this.partitions());
  }
}
