/**
 * The keyed part of a cluster job, run beside the context's own batches: the tasks that own the
 * job's keyed partitions (job/cluster-keyed-part.ts builds it). The context starts it once its
 * inputs run and stops it before its own batches stop.
 *
 * @example
 * ctx.useKeyedPart({ start: async () => runner.start(), stop: async () => runner.stop() });
 */
export interface KeyedPart {
  /** The stateful operators the keyed part runs, for messages. */
  readonly operators: readonly string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * When a context's batches start, chosen by its caller instead of the clock: a cluster task
 * starts at the first batch its keyed partition has to compute, with the zero time every task
 * shares (so windows end at the same times in every process), and restores its operators once
 * the graph knows its zero time.
 *
 * @example
 * ctx.planStart({ zeroTime: 0, startTime: 5000, restore: () => restoreOperators(ctx, saved) });
 */
export interface StartPlan {
  readonly zeroTime: number;
  readonly startTime: number;
  /** Called after the graph is set up with the zero time, before any batch runs. */
  readonly restore: () => void;
}
