import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { DeadLetter } from "../connector/dead-letter.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { FromExecutor, TaskResult, TaskSpec, ToExecutor } from "./messages.js";
import { deserializeError } from "./serialized-error.js";
import { BOOTSTRAP_SOURCE, type BootstrapData, bootstrapData } from "./worker-bootstrap.js";

type LoadMessage = Extract<ToExecutor, { type: "load" }>;
type PutBlockMessage = Extract<ToExecutor, { type: "put-block" }>;

/** Options of an `ExecutorPool`. */
export interface ExecutorPoolOptions {
  /** Executor threads (default: the machine's available parallelism). */
  readonly threads?: number;
  /**
   * The most memory each executor thread's young generation may take, in MiB (default
   * `EXECUTOR_YOUNG_GENERATION_MB`; V8's own default for a thread is about 48 on 64-bit).
   */
  readonly youngGenerationMb?: number;
}

/**
 * Executors' young generation, MiB. A task allocates its records and their pairs in bursts of
 * megabytes that die when the task ends (a 50k-line partition split into words and paired, a
 * decoded 44k-key window partition); a small young generation collects in the middle of such a
 * burst and copies all of it. A/B in one run, alternating, ms per batch at local[2], default
 * against 128: W1 lambda 106 -> 96 (3 of 3 rounds), W2 lambda 126 -> 114 (3 of 3), W2 columnar
 * 32.5 -> 29.0 (7 of 8); 48 was as slow as the default, 256 no faster than 128.
 */
export const EXECUTOR_YOUNG_GENERATION_MB = 128;

/** One attempt of a task that succeeded, and where and how long it ran. */
export interface TaskAttempt {
  readonly result: TaskResult;
  /** Records the task's functions failed on, for the job's dead-letter sink. */
  readonly deadLetters: readonly DeadLetter[];
  /** The executor thread that ran it. */
  readonly threadId: number;
  /** From sending the task to receiving its result, in milliseconds. */
  readonly ms: number;
}

/**
 * A task attempt that failed: the task threw (`cause` is its error), or its executor thread
 * died while running it.
 */
export class TaskAttemptError extends Error {
  constructor(
    message: string,
    readonly threadId: number,
    /** True when the executor thread exited (the task may well succeed on a fresh one). */
    readonly executorLost: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TaskAttemptError";
  }
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

interface Pending {
  readonly task: TaskSpec;
  /** The executor thread it must run on (the one keeping its input), if any. */
  readonly threadId: number | undefined;
  readonly resolve: (attempt: TaskAttempt) => void;
  readonly reject: (error: unknown) => void;
}

interface Running extends Pending {
  readonly taskId: number;
  readonly sentAt: number;
}

interface Slot {
  readonly worker: Worker;
  readonly threadId: number;
  ready: boolean;
  exited: boolean;
  current: Running | undefined;
  lastError: Error | undefined;
  /** Jobs this thread has loaded and may run tasks of. */
  readonly loadedJobs: Set<number>;
  /** Loads sent or waiting for the thread to be ready. */
  readonly loads: Map<number, Deferred>;
}

/** A thread that dies before it is ready this many times in a row means executors cannot start. */
const MAX_BOOT_FAILURES = 3;

/**
 * A pool of executor threads (`node:worker_threads`) that run tasks of the jobs loaded on them.
 * A context with `master: "local[N]"` starts its own and closes it when it stops; a pool made
 * here can also be shared by several contexts (pass it as `executorPool`) and closed by its owner.
 * A thread that dies is replaced by a fresh one, which loads every job before taking tasks.
 *
 * @example
 * const pool = new ExecutorPool({ threads: 2 });
 * const ctx = await createJobContext(job, { batchInterval: "1s", master: "local[2]", executorPool: pool });
 * // ...
 * await pool.close();
 */
export class ExecutorPool {
  /** How many executor threads the pool keeps. */
  readonly threads: number;
  private readonly youngGenerationMb: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly jobs = new Map<number, LoadMessage>();
  private boot: BootstrapData | undefined;
  private closed = false;
  private bootFailures = 0;
  private broken: Error | undefined;
  private readonly exits = new Set<Promise<void>>();
  private completed = 0;
  // Ids are unique within the pool, which is all that reads them (the workers' replies).
  private lastTaskId = 0;
  private lastJobKey = 0;

  /**
   * A key for a job to load on this pool, unique among its jobs (contexts sharing the pool each
   * load their own).
   *
   * @example
   * await pool.loadJob({ type: "load", jobKey: pool.newJobKey(), job, settings, streams });
   */
  newJobKey(): number {
    this.lastJobKey += 1;
    return this.lastJobKey;
  }

  constructor(options: ExecutorPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `ExecutorPool: threads must be an integer of at least 1, got ${String(threads)}`,
      );
    }
    this.threads = threads;
    const youngGenerationMb = options.youngGenerationMb ?? EXECUTOR_YOUNG_GENERATION_MB;
    if (!Number.isInteger(youngGenerationMb) || youngGenerationMb < 1) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `ExecutorPool: youngGenerationMb must be an integer of at least 1 (MiB), got ${String(youngGenerationMb)}`,
      );
    }
    this.youngGenerationMb = youngGenerationMb;
  }

  /** Task attempts that completed on this pool's executors so far. */
  get completedTasks(): number {
    return this.completed;
  }

  /** True once `close` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * The thread ids of the executors alive now.
   *
   * @example
   * pool.threadIds(); // [7, 8]
   */
  threadIds(): number[] {
    return this.slots.filter((slot) => !slot.exited).map((slot) => slot.threadId);
  }

  /**
   * Loads a job on every executor (starting the threads on the first load); resolves once each
   * one has rebuilt the job's graph. Threads started later load it before their first task.
   *
   * @example
   * await pool.loadJob({ type: "load", jobKey: 1, job, settings, streams });
   */
  async loadJob(message: LoadMessage): Promise<void> {
    this.assertOpen();
    this.jobs.set(message.jobKey, message);
    if (this.boot === undefined) {
      this.boot = bootstrapData([message.job.module]);
      for (let i = 0; i < this.threads; i++) this.spawn();
    }
    const loads = this.slots.map((slot) => this.requestLoad(slot, message.jobKey).promise);
    try {
      await Promise.all(loads);
    } catch (error) {
      this.unloadJob(message.jobKey);
      throw error;
    }
  }

  /**
   * Forgets a job on every executor.
   *
   * @example
   * pool.unloadJob(1);
   */
  unloadJob(jobKey: number): void {
    this.jobs.delete(jobKey);
    for (const slot of this.slots) {
      slot.loadedJobs.delete(jobKey);
      slot.loads.delete(jobKey);
      if (slot.ready && !slot.exited) this.send(slot, { type: "unload", jobKey });
    }
  }

  /**
   * Runs one attempt of a task on the next free executor that has its job (or on `threadId`
   * only, the executor keeping its input); rejects with a `TaskAttemptError` when the task
   * throws or its thread dies.
   *
   * @example
   * const { result, threadId } = await pool.runTask(task);
   */
  runTask(task: TaskSpec, threadId?: number): Promise<TaskAttempt> {
    return new Promise((resolve, reject) => {
      if (this.closed || this.broken !== undefined) {
        reject(this.broken ?? this.closedError());
        return;
      }
      if (threadId !== undefined && !this.threadIds().includes(threadId)) {
        reject(this.lostBeforeStart(threadId));
        return;
      }
      this.queue.push({ task, threadId, resolve, reject });
      this.pump();
    });
  }

  /**
   * Gives a partition to executor `threadId` to keep (tasks then read it as a `block` input on
   * that thread); false when the thread is gone or the records cannot cross threads.
   *
   * @example
   * pool.putBlock(7, { type: "put-block", jobKey, blockId: "1:0", input: { kind: "records", records } });
   */
  putBlock(threadId: number, message: PutBlockMessage): boolean {
    const slot = this.slots.find((candidate) => candidate.threadId === threadId);
    if (slot === undefined || slot.exited || this.closed) return false;
    try {
      this.send(slot, message);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Tells executor `threadId` to forget a partition given with `putBlock`.
   *
   * @example
   * pool.dropBlock(7, jobKey, "1:0");
   */
  dropBlock(threadId: number, jobKey: number, blockId: string): void {
    const slot = this.slots.find((candidate) => candidate.threadId === threadId);
    if (slot === undefined || slot.exited || this.closed) return;
    this.send(slot, { type: "drop-block", jobKey, blockId });
  }

  /**
   * Terminates every executor thread; resolves once all have exited. Queued tasks fail.
   *
   * @example
   * await pool.close();
   */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const pending of this.queue.splice(0)) pending.reject(this.closedError());
      for (const slot of this.slots) void slot.worker.terminate();
    }
    while (this.exits.size > 0) await Promise.all([...this.exits]);
  }

  private spawn(): void {
    const boot = this.boot as BootstrapData;
    const worker = new Worker(BOOTSTRAP_SOURCE, {
      eval: true,
      workerData: boot,
      resourceLimits: { maxYoungGenerationSizeMb: this.youngGenerationMb },
    });
    const slot: Slot = {
      worker,
      threadId: worker.threadId,
      ready: false,
      exited: false,
      current: undefined,
      lastError: undefined,
      loadedJobs: new Set(),
      loads: new Map(),
    };
    this.slots.push(slot);
    for (const jobKey of this.jobs.keys()) this.requestLoad(slot, jobKey);
    worker.on("message", (message: FromExecutor) => this.onMessage(slot, message));
    worker.on("error", (error) => {
      slot.lastError = error;
    });
    const exited = new Promise<void>((resolve) => {
      worker.once("exit", (code) => {
        this.onExit(slot, code);
        this.exits.delete(exited);
        resolve();
      });
    });
    this.exits.add(exited);
  }

  private requestLoad(slot: Slot, jobKey: number): Deferred {
    const existing = slot.loads.get(jobKey);
    if (existing !== undefined) return existing;
    const load = deferred();
    // A thread that exits rejects its loads; nobody may be waiting on them any more.
    load.promise.catch(() => undefined);
    slot.loads.set(jobKey, load);
    const message = this.jobs.get(jobKey);
    if (slot.ready && message !== undefined) this.send(slot, message);
    return load;
  }

  private onMessage(slot: Slot, message: FromExecutor): void {
    switch (message.type) {
      case "ready":
        slot.ready = true;
        this.bootFailures = 0;
        for (const jobKey of slot.loads.keys()) {
          const load = this.jobs.get(jobKey);
          if (load !== undefined) this.send(slot, load);
        }
        return;
      case "boot-failed":
        slot.lastError = new SluiceError(
          "SLUICE_EXECUTOR_FAILED",
          `an executor thread failed to start: ${message.error.message}`,
          { cause: deserializeError(message.error) },
        );
        return;
      case "loaded":
        slot.loadedJobs.add(message.jobKey);
        slot.loads.get(message.jobKey)?.resolve();
        this.pump();
        return;
      case "load-failed":
        slot.loads.get(message.jobKey)?.reject(deserializeError(message.error));
        return;
      case "task-done":
      case "task-failed": {
        const running = slot.current;
        if (running === undefined || running.taskId !== message.taskId) return;
        slot.current = undefined;
        if (message.type === "task-done") {
          this.completed++;
          running.resolve({
            result: message.result,
            deadLetters: message.deadLetters ?? [],
            threadId: slot.threadId,
            ms: performance.now() - running.sentAt,
          });
        } else {
          const cause = deserializeError(message.error);
          const failure = new TaskAttemptError(cause.message, slot.threadId, false, { cause });
          (failure as { streamId?: number }).streamId = message.error.streamId;
          running.reject(failure);
        }
        this.pump();
        return;
      }
    }
  }

  private onExit(slot: Slot, code: number): void {
    slot.exited = true;
    this.slots.splice(this.slots.indexOf(slot), 1);
    const why = slot.lastError === undefined ? "" : `: ${slot.lastError.message}`;
    const lost = new SluiceError(
      "SLUICE_EXECUTOR_FAILED",
      `executor thread ${slot.threadId} exited with code ${code}${why}`,
      { cause: slot.lastError },
    );
    for (const load of slot.loads.values()) load.reject(lost);
    const running = slot.current;
    slot.current = undefined;
    if (running !== undefined) {
      running.reject(
        new TaskAttemptError(
          `executor thread ${slot.threadId} exited with code ${code} while running the task${why}`,
          slot.threadId,
          true,
          { cause: slot.lastError },
        ),
      );
    }
    // Tasks bound to the thread lose their input with it: the driver reads it elsewhere.
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const pending = this.queue[i] as Pending;
      if (pending.threadId !== slot.threadId) continue;
      this.queue.splice(i, 1);
      pending.reject(this.lostBeforeStart(slot.threadId));
    }
    if (this.closed) return;
    if (!slot.ready) {
      this.bootFailures++;
      if (this.bootFailures >= MAX_BOOT_FAILURES) {
        this.broken = lost;
        for (const pending of this.queue.splice(0)) pending.reject(lost);
        for (const other of this.slots) for (const load of other.loads.values()) load.reject(lost);
        return;
      }
    }
    this.spawn();
  }

  private pump(): void {
    for (const slot of this.slots) {
      // A task that cannot be sent leaves its thread free for the next one.
      while (slot.current === undefined && slot.ready && !slot.exited) {
        if (!this.dispatchTo(slot)) break;
      }
    }
  }

  /** Sends the first queued task of a job `slot` has loaded; false when there is none. */
  private dispatchTo(slot: Slot): boolean {
    const index = this.queue.findIndex(
      (pending) =>
        slot.loadedJobs.has(pending.task.jobKey) &&
        (pending.threadId === undefined || pending.threadId === slot.threadId),
    );
    if (index < 0) return false;
    const [pending] = this.queue.splice(index, 1) as [Pending];
    const running: Running = { ...pending, taskId: ++this.lastTaskId, sentAt: performance.now() };
    slot.current = running;
    try {
      this.send(slot, { type: "task", taskId: running.taskId, task: pending.task });
    } catch (error) {
      // Records that cannot be structured-cloned fail here, on the driver.
      slot.current = undefined;
      pending.reject(
        new SluiceError(
          "SLUICE_INVALID_RECORD",
          `records could not be sent to an executor (under local[N] with N > 1 they must be structured-cloneable): ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        ),
      );
    }
    return true;
  }

  private send(slot: Slot, message: ToExecutor): void {
    slot.worker.postMessage(message);
  }

  private assertOpen(): void {
    if (this.closed) throw this.closedError();
    if (this.broken !== undefined) throw this.broken;
  }

  private lostBeforeStart(threadId: number): TaskAttemptError {
    return new TaskAttemptError(
      `executor thread ${threadId}, which kept the task's input, exited before the task started`,
      threadId,
      true,
    );
  }

  private closedError(): SluiceError {
    return new SluiceError("SLUICE_ILLEGAL_STATE", "the executor pool has been closed");
  }
}

function deferred(): Deferred {
  let resolve = (): void => {};
  let reject = (_error: unknown): void => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
