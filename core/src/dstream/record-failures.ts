import type { DeadLetterOutput } from "../recovery/dead-letters.js";
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

  /** The batch whose outputs run now on the driver. */
  get batchTime(): number | undefined {
    return this.#batchTime;
  }

  /**
   * The dead-letter output while the context runs. Executor threads never start their context,
   * so there a failed record fails its task instead (and the batch after the retries).
   */
  activeDeadLetters(): DeadLetterOutput | undefined {
    return this.active ? this.deadLetters : undefined;
  }
}
