import type { DStream } from "../dstream/dstream.js";
import type { DStreamGraph } from "../dstream/dstream-graph.js";
import type { ForEachDStream } from "../dstream/for-each-dstream.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { BatchExecutionInfo } from "../execution/batch-execution-info.js";
import type { Clock } from "./clock.js";
import type { InputInfoTracker } from "./input-info-tracker.js";
import type { BatchInfo, OutputOperationInfo, StreamInputInfo } from "./listener.js";
import type { ListenerBus } from "./listener-bus.js";

/** The jobs of one batch: one per output operation valid at its time (Spark's `JobSet`). */
interface JobSet {
  readonly time: number;
  readonly outputs: ReadonlyArray<ForEachDStream<unknown>>;
  /** Windows' parents to compute at this time before the outputs (`DStreamGraph.parentsToComputeAt`). */
  readonly windowParents: ReadonlyArray<DStream<unknown>>;
  readonly inputInfos: ReadonlyMap<number, StreamInputInfo>;
  readonly submissionTime: number;
  processingStartTime: number | undefined;
  processingEndTime: number | undefined;
  readonly outputInfos: Map<number, OutputOperationInfo>;
  execution: BatchExecutionInfo | undefined;
  /** Why the batch failed before any job ran (its input could not be computed). */
  readonly failure?: unknown;
}

/** What the scheduler works with. */
export interface JobSchedulerDeps {
  readonly clock: Clock;
  readonly graph: DStreamGraph;
  readonly listenerBus: ListenerBus;
  readonly inputInfoTracker: InputInfoTracker;
  /** How many batches may run at once (1: batches never overlap). */
  readonly concurrentJobs: number;
  readonly reportError: (error: unknown) => void;
  /**
   * Told instead of `reportError` of an output's failure in a batch a stop without draining cut
   * off (`cutOffRunning`): the stop ended the output's retries, so the failure is not the job's.
   */
  readonly reportCutOff?: (time: number, failure: unknown) => void;
  /** Called after every change of progress. */
  readonly onProgress: () => void;
  /** The executors' metrics of a completed batch (none without executors). */
  readonly executionInfo?: (time: number) => BatchExecutionInfo | undefined;
  /**
   * With checkpointing: commits a batch whose outputs ran (checkpoint, then acknowledgements),
   * before its older batches are forgotten. `undefined` without checkpointing: inputs are then
   * acknowledged as soon as the outputs ran.
   */
  readonly commitBatch?: (time: number, failure: unknown) => Promise<void> | undefined;
  /** Runs after a batch's outputs as its last output (the dead letters of the batch). */
  readonly afterOutputs?: (time: number) => Promise<void> | undefined;
}

/**
 * Runs the batches' jobs (Spark's `JobScheduler`): batches in time order, at most
 * `concurrentJobs` at once, the jobs of one batch one after the other in registration order.
 * With checkpointing, a batch's outputs start only once the commits (checkpoint, then
 * acknowledgements) of the earlier batches under way are done. Reports batch and
 * output-operation events, then clears what the streams no longer need.
 *
 * @example
 * scheduler.submit(3000, outputs, infos);
 */
export class JobScheduler {
  private readonly queue: JobSet[] = [];
  private readonly running = new Set<JobSet>();
  // Batches whose commit (checkpoint, then acknowledgements) is still under way, each settling
  // when done: a later batch's outputs wait for these (runJobSet). Batches without jobs are
  // committed beside the queue and are only here meanwhile.
  private readonly committing = new Map<number, Promise<void>>();
  /** A stop without draining has cut off the batches running (`cutOffRunning`). */
  private cutOff = false;

  constructor(private readonly deps: JobSchedulerDeps) {}

  /**
   * Queues the jobs of the batch at `time`, after computing `windowParents` (the streams whose
   * batch at `time` windows read later). Without jobs nothing is reported; the parents are still
   * computed, in turn with the other batches.
   */
  submit(
    time: number,
    outputs: ReadonlyArray<ForEachDStream<unknown>>,
    inputInfos: ReadonlyMap<number, StreamInputInfo>,
    windowParents: ReadonlyArray<DStream<unknown>> = [],
  ): void {
    const withoutJobs = outputs.length === 0;
    if (withoutJobs && windowParents.length === 0) {
      const committing = this.deps.commitBatch?.(time, undefined);
      if (committing === undefined) {
        this.finish(time, undefined, false);
        return;
      }
      void this.inFlight(time, committing, () => {
        this.finish(time, undefined, true);
        this.deps.onProgress();
      });
      return;
    }
    const jobSet: JobSet = {
      time,
      outputs,
      windowParents,
      inputInfos,
      submissionTime: this.deps.clock.now(),
      processingStartTime: undefined,
      processingEndTime: undefined,
      execution: undefined,
      outputInfos: new Map(
        outputs.map((output) => [output.outputId, outputInfo(time, output, undefined, undefined)]),
      ),
    };
    this.queue.push(jobSet);
    // A batch without jobs that only computes windows' parents runs in turn, unreported.
    if (!withoutJobs && this.deps.listenerBus.listens("onBatchSubmitted")) {
      this.deps.listenerBus.post("onBatchSubmitted", batchInfo(jobSet));
    }
    this.pump();
  }

  /**
   * Queues a batch whose input could not be computed: it runs no job and fails, in turn with
   * the other batches, so what its inputs took is nacked (with checkpointing: nothing after it
   * is acknowledged, and a restart replays from the last checkpoint), never acknowledged as if
   * it had been output.
   *
   * @example
   * scheduler.submitFailed(3000, error);
   */
  submitFailed(time: number, failure: unknown): void {
    this.queue.push({
      time,
      outputs: [],
      windowParents: [],
      inputInfos: new Map(),
      submissionTime: this.deps.clock.now(),
      processingStartTime: undefined,
      processingEndTime: undefined,
      execution: undefined,
      outputInfos: new Map(),
      failure,
    });
    this.pump();
  }

  /** True while a batch at or before `time` is queued or running. */
  hasUnfinishedUpTo(time: number): boolean {
    for (const jobSet of this.queue) if (jobSet.time <= time) return true;
    for (const jobSet of this.running) if (jobSet.time <= time) return true;
    for (const batchTime of this.committing.keys()) if (batchTime <= time) return true;
    return false;
  }

  /**
   * What keeps the scheduler from being idle, one line per batch, oldest first: running batches
   * with the output operations still running, queued ones, and batches whose commit (checkpoint,
   * acknowledgements) is not done. Said when a stop takes too long.
   *
   * @example
   * scheduler.unfinishedWork(); // ["batch 3000: running, output 1 (sink:cassandra#0) running for 12000 ms"]
   */
  unfinishedWork(): string[] {
    const now = this.deps.clock.now();
    const lines: { time: number; text: string }[] = [];
    for (const jobSet of this.running) {
      const outputs = [...jobSet.outputInfos.values()]
        .filter((info) => info.startTime !== undefined && info.endTime === undefined)
        .map(
          (info) =>
            `output ${info.id} (${info.name}) running for ${now - (info.startTime as number)} ms`,
        );
      const doing = outputs.length > 0 ? outputs.join(", ") : "computing its inputs and windows";
      lines.push({ time: jobSet.time, text: `batch ${jobSet.time}: running, ${doing}` });
    }
    for (const jobSet of this.queue) {
      lines.push({ time: jobSet.time, text: `batch ${jobSet.time}: queued` });
    }
    for (const time of this.committing.keys()) {
      lines.push({
        time,
        text: `batch ${time}: outputs done, checkpoint or acknowledgements under way`,
      });
    }
    return lines.sort((a, b) => a.time - b.time).map((line) => line.text);
  }

  /** True when nothing is queued or running. */
  isIdle(): boolean {
    return this.queue.length === 0 && this.running.size === 0 && this.committing.size === 0;
  }

  /** Drops the batches not started yet (a stop that does not drain). */
  cancelQueued(): void {
    this.queue.length = 0;
    this.deps.onProgress();
  }

  /**
   * A stop that does not drain ends the retries of the batches running: from now on, an output
   * of theirs that fails is reported to `reportCutOff`, not as the job's error (as Spark's
   * `stop(stopGracefully = false)` ends quietly). The batch still counts as failed, so nothing
   * of it is acknowledged and its input is processed again.
   *
   * @example
   * scheduler.cutOffRunning();
   * connectors.endRetries();
   */
  cutOffRunning(): void {
    this.cutOff = true;
  }

  private pump(): void {
    while (this.running.size < this.deps.concurrentJobs && this.queue.length > 0) {
      const jobSet = this.queue.shift() as JobSet;
      this.running.add(jobSet);
      void this.runJobSet(jobSet)
        .catch((error: unknown) => this.deps.reportError(error))
        .finally(() => {
          this.running.delete(jobSet);
          this.pump();
          this.deps.onProgress();
        });
    }
  }

  private async runJobSet(jobSet: JobSet): Promise<void> {
    const { clock, listenerBus } = this.deps;
    // Every acknowledgement of an earlier batch comes before this batch writes anything: a
    // Kafka sink paired with its source keeps one transaction open across batches, and an
    // acknowledgement commits it with the offsets acknowledged, so a commit still under way
    // would commit this batch's first outputs without their offsets. With one job at a time
    // only a batch without jobs (committed beside the queue) can still be committing here.
    // Nothing to wait for (the usual case) costs no turn of the event loop.
    if (this.committing.size > 0) await this.commitsBefore(jobSet.time);
    if (jobSet.outputs.length === 0) {
      await computeAhead(jobSet.windowParents, jobSet.time);
      const committing = this.deps.commitBatch?.(jobSet.time, jobSet.failure);
      if (committing !== undefined) await this.inFlight(jobSet.time, committing);
      this.finish(jobSet.time, jobSet.failure, committing !== undefined);
      return;
    }
    jobSet.processingStartTime = clock.now();
    // Events are built only for a listener that handles them: at a 10 ms interval the scheduler
    // posts several hundred a second, each a snapshot of the batch.
    if (listenerBus.listens("onBatchStarted"))
      listenerBus.post("onBatchStarted", batchInfo(jobSet));
    // Windows' parents start first (a window reads their batches again at later times) and run
    // beside the outputs: an output that reads one waits for the same computation, and what an
    // output can do without it (a window taking out the batches that left it) runs meanwhile,
    // on the driver while the executors compute the parent.
    const parentsComputed = computeAhead(jobSet.windowParents, jobSet.time);
    let firstFailure: unknown;
    for (const output of jobSet.outputs) {
      const startTime = clock.now();
      // Infos are immutable snapshots: the one kept is the one posted.
      const started = outputInfo(jobSet.time, output, startTime, undefined);
      jobSet.outputInfos.set(output.outputId, started);
      if (listenerBus.listens("onOutputOperationStarted")) {
        listenerBus.post("onOutputOperationStarted", started);
      }
      let failure: unknown;
      let numRecords: number | undefined;
      try {
        numRecords = await output.run(jobSet.time);
      } catch (error) {
        failure = jobError(error, output, jobSet.time);
        firstFailure ??= failure;
        if (this.cutOff && this.deps.reportCutOff !== undefined) {
          this.deps.reportCutOff(jobSet.time, failure);
        } else {
          this.deps.reportError(failure);
        }
      }
      const info = outputInfo(jobSet.time, output, startTime, clock.now(), failure, numRecords);
      jobSet.outputInfos.set(output.outputId, info);
      if (listenerBus.listens("onOutputOperationCompleted")) {
        listenerBus.post("onOutputOperationCompleted", info);
      }
    }
    await parentsComputed;
    try {
      await this.deps.afterOutputs?.(jobSet.time);
    } catch (error) {
      firstFailure ??= error;
      this.deps.reportError(error);
    }
    jobSet.processingEndTime = clock.now();
    jobSet.execution = this.deps.executionInfo?.(jobSet.time);
    if (listenerBus.listens("onBatchCompleted")) {
      listenerBus.post("onBatchCompleted", batchInfo(jobSet));
    }
    const committing = this.deps.commitBatch?.(jobSet.time, firstFailure);
    if (committing !== undefined) await this.inFlight(jobSet.time, committing);
    this.finish(jobSet.time, firstFailure, committing !== undefined);
  }

  // Keeps the commit of the batch at `time` in `committing` until it is done, then runs `done`
  // in the same callback (so no progress check sees the batch done before `done` ran). A
  // failure is reported: the promise returned never rejects.
  private inFlight(time: number, committing: Promise<void>, done?: () => void): Promise<void> {
    const settled = committing
      .catch((error: unknown) => this.deps.reportError(error))
      .finally(() => {
        this.committing.delete(time);
        done?.();
      });
    this.committing.set(time, settled);
    return settled;
  }

  // Settles once the commits under way of batches before `time` are done (they never reject).
  private commitsBefore(time: number): Promise<unknown> {
    const earlier: Promise<void>[] = [];
    for (const [batchTime, committing] of this.committing) {
      if (batchTime < time) earlier.push(committing);
    }
    return Promise.all(earlier);
  }

  /**
   * After a batch: forget old batches and let inputs acknowledge what the batch held (unless a
   * checkpoint commit acknowledges them).
   */
  private finish(time: number, failure: unknown, committed: boolean): void {
    const { graph, inputInfoTracker } = this.deps;
    try {
      graph.clearMetadata(time);
      inputInfoTracker.cleanup(time);
      if (!committed) for (const input of graph.inputs) input.batchCompleted(time, failure);
    } catch (error) {
      this.deps.reportError(error);
    }
  }
}

/**
 * Computes the windows' parents' batches at `time`, all started at once (streams they share are
 * computed once). A failure stays the batch's outcome (`DStream.computeAhead`) and is reported
 * by the output that reads it; the promise never rejects.
 */
async function computeAhead(streams: ReadonlyArray<DStream<unknown>>, time: number): Promise<void> {
  await Promise.all(streams.map((stream) => stream.computeAhead(time)));
}

/** SluiceErrors keep their code; anything else an output throws becomes `SLUICE_JOB_FAILED`. */
function jobError(error: unknown, output: ForEachDStream<unknown>, time: number): unknown {
  if (error instanceof SluiceError) return error;
  return new SluiceError(
    "SLUICE_JOB_FAILED",
    `output operation ${output.outputId} (${output.operation}) failed for the batch at ${time} ms: ${
      error instanceof Error ? error.message : String(error)
    }`,
    { cause: error },
  );
}

function outputInfo(
  batchTime: number,
  output: ForEachDStream<unknown>,
  startTime: number | undefined,
  endTime: number | undefined,
  failure?: unknown,
  numRecords?: number,
): OutputOperationInfo {
  return {
    numRecords,
    batchTime,
    id: output.outputId,
    name: output.operation,
    startTime,
    endTime,
    duration: startTime !== undefined && endTime !== undefined ? endTime - startTime : undefined,
    failureReason:
      failure === undefined
        ? undefined
        : failure instanceof Error
          ? failure.message
          : String(failure),
  };
}

function batchInfo(jobSet: JobSet): BatchInfo {
  const { processingStartTime: start, processingEndTime: end, submissionTime } = jobSet;
  let numRecords = 0;
  for (const info of jobSet.inputInfos.values()) numRecords += info.numRecords;
  const schedulingDelay = start === undefined ? undefined : start - submissionTime;
  const processingDelay = start === undefined || end === undefined ? undefined : end - start;
  return {
    batchTime: jobSet.time,
    streamIdToInputInfo: jobSet.inputInfos,
    numRecords,
    submissionTime,
    processingStartTime: start,
    processingEndTime: end,
    schedulingDelay,
    processingDelay,
    totalDelay:
      schedulingDelay === undefined || processingDelay === undefined
        ? undefined
        : schedulingDelay + processingDelay,
    outputOperationInfos: new Map(jobSet.outputInfos),
    ...(jobSet.execution === undefined ? {} : { execution: jobSet.execution }),
  };
}
