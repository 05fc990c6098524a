import type { DStreamGraph } from "../dstream/dstream-graph.js";
import type { Clock } from "./clock.js";
import type { InputInfoTracker } from "./input-info-tracker.js";
import type { JobScheduler } from "./job-scheduler.js";

/** What the generator works with. */
export interface JobGeneratorDeps {
  readonly clock: Clock;
  readonly batchInterval: number;
  readonly graph: DStreamGraph;
  readonly scheduler: JobScheduler;
  readonly inputInfoTracker: InputInfoTracker;
  readonly reportError: (error: unknown) => void;
  /** Called after every batch generated. */
  readonly onProgress: () => void;
  /** With checkpointing: records what the inputs put into a batch, before it is submitted. */
  readonly recordBatch?: (time: number) => Promise<void> | undefined;
}

/**
 * Ticks at every batch time on the injected clock (Spark's `JobGenerator` with its
 * `RecurringTimer`): at each tick it takes every input's batch for that time, then submits one
 * job per output operation valid at that time, preceded by computing the windows' parents at
 * that time. Missed ticks (a clock moved by several intervals) are generated one by one, in
 * order.
 *
 * @example
 * generator.start(1000); // first batch at 1000 ms
 */
export class JobGenerator {
  private nextTime = 0;
  private lastGenerated = Number.NEGATIVE_INFINITY;
  private stopTime = Number.POSITIVE_INFINITY;
  private readonly abort = new AbortController();
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly deps: JobGeneratorDeps) {}

  /** The time of the last batch generated (before the first: −∞). */
  get lastGeneratedTime(): number {
    return this.lastGenerated;
  }

  /** The time of the next batch. */
  get nextBatchTime(): number {
    return this.nextTime;
  }

  /** Starts ticking; the first batch is at `startTime`. */
  start(startTime: number): void {
    this.nextTime = startTime;
    this.lastGenerated = startTime - this.deps.batchInterval;
    this.loop = this.run();
  }

  /** Stops ticking now; resolves when a tick in progress has been submitted. */
  stop(): Promise<void> {
    this.abort.abort();
    return this.loop;
  }

  /** Keeps ticking up to and including `time`, then stops; resolves when done. */
  stopAfter(time: number): Promise<void> {
    if (this.nextTime > time) this.abort.abort();
    else this.stopTime = time;
    return this.loop;
  }

  private async run(): Promise<void> {
    const { clock, batchInterval } = this.deps;
    while (!this.abort.signal.aborted && this.nextTime <= this.stopTime) {
      try {
        await clock.waitUntil(this.nextTime, this.abort.signal);
      } catch {
        return;
      }
      const time = this.nextTime;
      try {
        await this.generate(time);
      } catch (error) {
        this.deps.reportError(error);
      }
      this.lastGenerated = time;
      this.nextTime = time + batchInterval;
      this.deps.onProgress();
    }
  }

  private async generate(time: number): Promise<void> {
    const { graph, scheduler, inputInfoTracker, reportError } = this.deps;
    // Every input is done taking its batch before the outcome counts: one that failed must not
    // leave another still taking records into a batch already settled.
    const taken = await Promise.allSettled(
      graph.inputs
        .filter((input) => input.isTimeValid(time))
        .map((input) => input.getOrCompute(time)),
    );
    const failed = taken.find((outcome) => outcome.status === "rejected");
    if (failed !== undefined) {
      // Spark's generateJobs: report the failure and run no job for this time. The batch failed:
      // what the other inputs took for it was never output, so it is not acknowledged.
      reportError(failed.reason);
      scheduler.submitFailed(time, failed.reason);
      return;
    }
    const outputs = graph.outputs.filter((output) => output.isTimeValid(time));
    await this.deps.recordBatch?.(time);
    // Windows' parents are computed at every tick (started before the outputs, and run beside
    // them), so the streams above them keep a batch only until its tick is over (Spark
    // generates every RDD at its time).
    scheduler.submit(
      time,
      outputs,
      inputInfoTracker.infosFor(time),
      graph.parentsToComputeAt(time),
    );
  }
}
