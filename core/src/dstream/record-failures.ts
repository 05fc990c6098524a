import type { DeadLetter, DeadLetterOutput } from "../recovery/dead-letters.js";
import type { ContextState } from "../scheduler/context-state.js";
import type { ListenerBus } from "../scheduler/listener-bus.js";

/**
 * Where a context's record-level failures go: its dead-letter output (`ctx.deadLetters`), and
 * the batch whose outputs run now on the driver (for messages and dead letters). One per
 * context, built with it.
 *
 * @example
 * const failures = new RecordFailures(listenerBus, () => state);
 * failures.deadLetters = output;
 */
export class RecordFailures {
  /** The dead-letter output set by `ctx.deadLetters`, if any. */
  deadLetters: DeadLetterOutput | undefined;
  #batchTime: number | undefined;
  /** On an executor thread, the task running now: its batch and the dead letters it made. */
  #task: { readonly time: number; readonly letters: DeadLetter[] } | undefined;
  readonly #state: () => ContextState;

  constructor(listenerBus: ListenerBus, state: () => ContextState) {
    this.#state = state;
    listenerBus.add({
      onBatchStarted: (info) => {
        this.#batchTime = info.batchTime;
      },
      onBatchCompleted: () => {
        this.#batchTime = undefined;
      },
    });
  }

  /** True while the context runs: executor threads never start theirs. */
  get active(): boolean {
    return this.#state() === "ACTIVE";
  }

  /** The batch whose outputs run now on the driver, or whose task runs now on an executor. */
  get batchTime(): number | undefined {
    return this.#batchTime ?? this.#task?.time;
  }

  /**
   * The dead-letter output while the context runs. Executor threads never start their context:
   * there `captureInTask` keeps a failed record for the driver instead.
   */
  activeDeadLetters(): DeadLetterOutput | undefined {
    return this.active ? this.deadLetters : undefined;
  }

  /**
   * On an executor thread: a task of the batch at `time` begins. Until `endTask`, records its
   * functions fail on are kept with the task (when the job has a dead-letter sink) and go back
   * to the driver with its result, which writes them with the batch's dead letters.
   *
   * @example
   * failures.beginTask(3000); const result = runTask(...); const letters = failures.endTask();
   */
  beginTask(time: number): void {
    this.#task = { time, letters: [] };
  }

  /**
   * The dead letters of the task begun last, which is over (an empty list when it made none).
   *
   * @example
   * const letters = failures.endTask();
   */
  endTask(): DeadLetter[] {
    const letters = this.#task?.letters ?? [];
    this.#task = undefined;
    return letters;
  }

  /**
   * Keeps `letter` with the executor task running now, if the job has a dead-letter sink;
   * false when it has none (or no task runs), so the record fails its task.
   *
   * @example
   * if (!failures.captureInTask(deadLetterOf(record, error, "map", time))) throw error;
   */
  captureInTask(letter: DeadLetter): boolean {
    if (this.deadLetters === undefined || this.#task === undefined) return false;
    this.#task.letters.push(letter);
    return true;
  }
}
