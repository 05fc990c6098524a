import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import type { Logger } from "pino";
import type { GraphInput } from "../dstream/dstream-graph.js";
import { SluiceError } from "../errors/sluice-error.js";
import { SourceInputDStream } from "../plugins/source-input-dstream.js";
import { formatMs, MAX_DURATION_MS } from "../util/duration.js";
import { deserializeOwned } from "../util/owned-deserialize.js";
import type {
  BatchIntent,
  CheckpointData,
  InputExtent,
  OperatorCheckpoint,
} from "./checkpoint-data.js";
import { checkpointFolderError } from "./checkpoint-folder-error.js";
import { CheckpointFolderLock } from "./checkpoint-folder-lock.js";
import type { CheckpointSettings } from "./checkpoint-options.js";
import { CheckpointStore, type SkippedCheckpoint } from "./checkpoint-store.js";
import { type NamedOperator, nameStatefulOperators } from "./operator-names.js";
import { type RecoveryReport, type ReportEntry, reportProblems } from "./recovery-report.js";
import { SourceLedger } from "./source-ledger.js";
import { WriteAheadLog } from "./write-ahead-log.js";

/**
 * Checkpoints that may fail in a row before checkpointing stops for good: one that cannot be
 * written leaves its acknowledgements to the next, which holds what both cover in memory, so
 * checkpoints that keep failing (a disk left too full for them, state that cannot be
 * serialized) would hold the records of every batch until the job restarts.
 */
const CHECKPOINTS_FAILING_IN_A_ROW = 3;

/** A checkpoint read back for a job to resume from. */
export interface RecoveredCheckpoint {
  readonly checkpoint: CheckpointData;
  readonly file: string;
  /** Newer checkpoint files that were damaged. */
  readonly skipped: readonly SkippedCheckpoint[];
  /** The batches generated after the checkpoint, to replay exactly. */
  readonly intents: readonly BatchIntent[];
}

/** Every intact checkpoint of the folder, newest first, for the job to choose from. */
export interface RecoveryCandidates {
  readonly candidates: readonly Omit<RecoveredCheckpoint, "skipped">[];
  /** Checkpoint files that could not be read at all. */
  readonly skipped: readonly SkippedCheckpoint[];
}

/** The job a coordinator checkpoints: what it needs of it, passed in by the context. */
export interface CheckpointedJob {
  readonly appName: string;
  readonly batchInterval: number;
  readonly inputs: readonly GraphInput[];
  /** The output operations, through which the stateful operators are found and named. */
  readonly outputs: Parameters<typeof nameStatefulOperators>[0];
  readonly logger: Logger;
  /** Records an error for `awaitTermination` to throw. */
  readonly reportError: (error: unknown) => void;
}

/** What the coordinator needs from the scheduler. */
export interface CoordinatorHooks {
  /** True while a batch before `time` is queued or running. */
  readonly hasUnfinishedBefore: (time: number) => boolean;
  /**
   * True when the job is behind its clock at the batch at `time` — the batch after the next is
   * already due (catching up after a restart, or overloaded).
   */
  readonly isBehind: (time: number) => boolean;
}

/**
 * Checkpointing for one context (Spark's `CheckpointWriter` and the recovery in
 * `StreamingContext.getOrCreate`): restores a recovered checkpoint before the job starts,
 * records every generated batch before it runs, and after each batch's outputs — the commit
 * protocol — writes the checkpoint (state of every stateful operator, input offsets, write-ahead
 * log position) and only then acknowledges the sources.
 *
 * @example
 * const coordinator = new CheckpointCoordinator(job, settings, recovered, hooks);
 * const { zeroTime, startTime } = coordinator.plan(clock.now());
 */
export class CheckpointCoordinator {
  readonly settings: CheckpointSettings;
  readonly store: CheckpointStore;
  readonly #job: CheckpointedJob;
  readonly #candidates: RecoveryCandidates | undefined;
  #recovered: RecoveredCheckpoint | undefined;
  readonly #hooks: CoordinatorHooks;
  readonly #logger: Logger;
  readonly #ledgers: SourceLedger[] = [];
  readonly #generated = new Set<number>();
  readonly #walHistory: Map<string, number | undefined>[] = [];
  #operators: NamedOperator[] = [];
  #zeroTime = 0;
  #firstStartedAt = 0;
  #lastCheckpoint = Number.NEGATIVE_INFINITY;
  #lastCompleted = Number.NEGATIVE_INFINITY;
  #failed = false;
  /** Why checkpointing failed for good (see `#abandon`). */
  #failure: unknown;
  /** Checkpoints that could not be written since the last one that was. */
  #failedInARow = 0;
  #chain: Promise<void> = Promise.resolve();
  #report: RecoveryReport | undefined;
  /** The folder's lock, from `prepare` to `finish`: one run writes to a folder at a time. */
  #lock: CheckpointFolderLock | undefined;

  constructor(
    job: CheckpointedJob,
    settings: CheckpointSettings,
    recovered: RecoveryCandidates | undefined,
    hooks: CoordinatorHooks,
  ) {
    this.#job = job;
    this.settings = settings;
    this.#candidates = recovered;
    this.#hooks = hooks;
    this.store = new CheckpointStore(settings.directory, { fs: settings.fs, keep: settings.keep });
    this.#logger = job.logger.child({ component: "checkpoint" });
  }

  /** What the recovery restored and dropped; `undefined` on a first run. */
  get report(): RecoveryReport | undefined {
    return this.#report;
  }

  /**
   * The zero time and the first batch time: from the checkpoint when recovering (the batches
   * since the checkpoint are generated first, down time included), else from `now`.
   *
   * @example
   * const { zeroTime, startTime } = coordinator.plan(clock.now());
   */
  plan(now: number): { zeroTime: number; startTime: number } {
    const interval = this.#job.batchInterval;
    this.#operators = nameStatefulOperators(this.#job.outputs);
    this.#recovered = this.#choose(now, interval);
    const checkpoint = this.#recovered?.checkpoint;
    if (checkpoint === undefined) {
      const startTime = (Math.floor(now / interval) + 1) * interval;
      this.#zeroTime = startTime - interval;
      return { zeroTime: this.#zeroTime, startTime };
    }
    if (checkpoint.batchInterval !== interval) {
      throw new SluiceError(
        "SLUICE_CHECKPOINT_INCOMPATIBLE",
        `the checkpoint in ${this.settings.directory} was written with a batch interval of ${checkpoint.batchInterval} ms, this job has ${interval} ms: keep the interval, or start from a new checkpoint folder`,
      );
    }
    this.#zeroTime = checkpoint.zeroTime;
    return { zeroTime: checkpoint.zeroTime, startTime: checkpoint.time + interval };
  }

  /**
   * Before the inputs start: takes the folder's lock (`SLUICE_CHECKPOINT_IN_USE` while another
   * run of the job holds it; see `CheckpointFolderLock`), restores operator state, hands every
   * connector source its ledger (seek or write-ahead log), and on a first run writes the initial
   * checkpoint.
   *
   * @example
   * await coordinator.prepare();
   */
  async prepare(): Promise<void> {
    const recovered = this.#recovered;
    const { fs, directory } = this.settings;
    await fs.mkdir(directory).catch((error: unknown) => {
      throw checkpointFolderError(directory, error);
    });
    this.#lock = await CheckpointFolderLock.acquire(directory, {
      appName: this.#job.appName,
      onLost: (error) => this.#takenOver(error),
    });
    try {
      await this.#prepareHeld(recovered);
    } catch (error) {
      await this.releaseFolder();
      throw error;
    }
  }

  async #prepareHeld(recovered: RecoveredCheckpoint | undefined): Promise<void> {
    const { fs, directory } = this.settings;
    await this.store.removeTemporaryFiles();
    if (recovered === undefined) {
      // A first run: batch records and logs of an earlier run in this folder cannot apply.
      await this.store.discardBatchesAfter(Number.NEGATIVE_INFINITY);
      await fs.remove(join(directory, "wal"));
    }
    const restored = recovered === undefined ? undefined : this.#restoreOperators(recovered);
    const inputs = this.#attachLedgers(this.#job.inputs, recovered);
    this.#firstStartedAt = recovered?.checkpoint.firstStartedAt ?? Date.now();
    if (recovered === undefined) {
      await this.#writeCheckpoint(this.#zeroTime);
      return;
    }
    this.#lastCheckpoint = recovered.checkpoint.time;
    this.#lastCompleted = recovered.checkpoint.time;
    this.#walHistory.push(walSequences(recovered.checkpoint));
    const report: RecoveryReport = {
      checkpointTime: recovered.checkpoint.time,
      checkpointFile: recovered.file,
      skippedCheckpoints: recovered.skipped.map(({ file, error }) => ({
        name: file,
        reason: error.message,
      })),
      restoredOperators: restored?.restoredOperators ?? [],
      droppedState: restored?.droppedState ?? [],
      operatorsWithoutState: restored?.operatorsWithoutState ?? [],
      ...inputs,
      replayedBatches: recovered.intents.map((intent) => intent.time),
      replayProblems: this.#replayProblems,
    };
    this.#report = report;
    const problems = reportProblems(report);
    this.#logger.info(
      {
        checkpoint: recovered.file,
        time: recovered.checkpoint.time,
        restored: report.restoredOperators,
        replaying: report.replayedBatches.length,
      },
      "recovering from checkpoint",
    );
    for (const line of problems) this.#logger.warn(line);
  }

  readonly #replayProblems: string[] = [];

  /**
   * Records what every source put into the batch at `time`, before the batch runs, so a crash
   * replays it record for record.
   *
   * @example
   * await coordinator.recordBatch(4000);
   */
  async recordBatch(time: number): Promise<void> {
    // Once failed, no checkpoint will list the batch as pending: nothing is kept for it.
    if (this.#failed) return;
    this.#generated.add(time);
    if (this.#ledgers.length === 0) return;
    const inputs: InputExtent[] = [];
    for (const ledger of this.#ledgers) {
      const extent = ledger.extentOf(time);
      if (extent !== undefined) inputs.push(extent);
    }
    try {
      await this.#lock?.check();
      await this.store.writeBatch({ time, inputs });
    } catch (error) {
      if (isTakeover(error)) {
        this.#takenOver(error);
        return;
      }
      // Without its record the batch could not be replayed exactly: stop committing.
      this.#fail(
        new SluiceError(
          "SLUICE_CHECKPOINT_WRITE_FAILED",
          `could not record the batch at ${time} ms in ${this.settings.directory}: ${messageOf(error)}; no checkpoint is written from now on, restart the job to resume from the last one`,
          { cause: error },
        ),
      );
    }
  }

  /**
   * The commit protocol after the outputs of the batch at `time` ran: when a checkpoint is due
   * and every earlier batch is done, write it, then acknowledge the sources up to `time`. A
   * failed batch is never committed: nothing after the last checkpoint is acknowledged, and a
   * restart replays from it.
   *
   * @example
   * await coordinator.commitBatch(4000, undefined);
   */
  commitBatch(time: number, failure: unknown): Promise<void> {
    const committing = this.#chain.then(() => this.#commit(time, failure, false));
    this.#chain = committing.catch(() => undefined);
    return committing;
  }

  /**
   * At stop: a last checkpoint covering every batch completed (and the acknowledgements it
   * allows), then the write-ahead logs are closed.
   *
   * @example
   * await coordinator.finish();
   */
  async finish(): Promise<void> {
    try {
      await this.#chain;
      if (!this.#failed && this.#lastCompleted > this.#lastCheckpoint) {
        await this.#commit(this.#lastCompleted, undefined, true);
      }
      for (const ledger of this.#ledgers) await ledger.close();
    } finally {
      await this.releaseFolder();
    }
  }

  /**
   * Lets the checkpoint folder go for another run (`finish` does; a start that failed after
   * `prepare` calls it).
   *
   * @example
   * await coordinator.releaseFolder();
   */
  async releaseFolder(): Promise<void> {
    const lock = this.#lock;
    this.#lock = undefined;
    await lock?.release();
  }

  async #commit(time: number, failure: unknown, force: boolean): Promise<void> {
    if (this.#failed) {
      this.#release(time);
      return;
    }
    if (failure !== undefined) {
      this.#logger.error(
        { err: failure, batchTime: time },
        "a batch failed: no checkpoint is written after it and its records are not acknowledged; restart the job to replay from the last checkpoint",
      );
      this.#abandon(failure);
      this.#release(time);
      return;
    }
    this.#lastCompleted = Math.max(this.#lastCompleted, time);
    // Behind the clock, a checkpoint per batch would make catching up as slow as the disk: the
    // batch records (written before each batch runs) keep replays exact in between.
    const interval = this.#hooks.isBehind(time)
      ? this.settings.catchUpIntervalMs
      : this.settings.intervalMs;
    const due = force || interval === undefined || time - this.#lastCheckpoint >= interval;
    if (!due || this.#hooks.hasUnfinishedBefore(time)) return;
    if (!(await this.#writeCheckpoint(time))) {
      // The failure that ended checkpointing: this batch's blocks go like the later ones'.
      if (this.#failed) this.#release(time);
      return;
    }
    for (const input of this.#job.inputs) input.batchCompleted(time, undefined);
    await this.#tellCheckpointed();
    await this.#truncateLogs();
  }

  async #writeCheckpoint(time: number): Promise<boolean> {
    const { appName, batchInterval } = this.#job;
    try {
      const operators: OperatorCheckpoint[] = [];
      for (const named of this.#operators) operators.push(await this.#saveOperator(named, time));
      const checkpoint: CheckpointData = {
        appName,
        batchInterval,
        zeroTime: this.#zeroTime,
        time,
        writtenAt: Date.now(),
        firstStartedAt: this.#firstStartedAt,
        pendingBatches: [...this.#generated].filter((batch) => batch > time).sort((a, b) => a - b),
        inputs: this.#ledgers.map((ledger) => ledger.checkpointAt(time)),
        operators,
      };
      await this.#lock?.check();
      await this.store.write(checkpoint);
      this.#failedInARow = 0;
      for (const ledger of this.#ledgers) ledger.checkpointWritten(time);
      this.#lastCheckpoint = time;
      for (const batch of this.#generated) if (batch <= time) this.#generated.delete(batch);
      this.#walHistory.push(walSequences(checkpoint));
      return true;
    } catch (error) {
      if (isTakeover(error)) {
        this.#takenOver(error);
        return false;
      }
      // Nothing is acknowledged without a checkpoint; the next one covers this batch too.
      const failure =
        error instanceof SluiceError
          ? error
          : new SluiceError(
              "SLUICE_CHECKPOINT_WRITE_FAILED",
              `could not write the checkpoint for the batch at ${time} ms to ${this.settings.directory}: ${messageOf(error)}`,
              { cause: error },
            );
      this.#logger.error({ err: failure, batchTime: time }, "checkpoint failed");
      this.#job.reportError(failure);
      this.#failedInARow++;
      if (this.#failedInARow >= CHECKPOINTS_FAILING_IN_A_ROW) {
        this.#fail(
          new SluiceError(
            "SLUICE_CHECKPOINT_WRITE_FAILED",
            `${this.#failedInARow} checkpoints in a row could not be written to ${this.settings.directory} (the last for the batch at ${time} ms: ${failure.message}); no checkpoint is written and nothing is acknowledged from now on: restart the job to resume from the checkpoint at ${this.#lastCheckpoint} ms`,
            { cause: failure },
          ),
        );
      }
      return false;
    }
  }

  async #saveOperator(named: NamedOperator, time: number): Promise<OperatorCheckpoint> {
    const saved = await named.operator.saveState(time);
    let state: Uint8Array;
    try {
      state = serialize(saved);
    } catch (error) {
      throw new SluiceError(
        "SLUICE_STATE_NOT_SERIALIZABLE",
        `the state of "${named.name}" (${named.operator.stateKind}) at ${time} ms cannot be checkpointed: ${messageOf(error).replace(/\.+$/, "")}. Keys and state must be plain data that v8.serialize accepts (objects, arrays, strings, numbers, bigints, Maps, Sets, Dates, typed arrays), not functions, symbols or class instances`,
        { cause: error },
      );
    }
    return {
      name: named.name,
      derivedName: named.derived,
      kind: named.operator.stateKind,
      fingerprint: named.operator.stateFingerprint(),
      state,
    };
  }

  // After a checkpoint's acknowledgements: a source paired with a sink commits what the sink
  // wrote, which the checkpoint covers, even when it acknowledged no read of that source (see
  // `Source.checkpointed`). Its acknowledgements are settled a turn later (they may commit more
  // than their read), so the sources hear of the checkpoint once those calls were made.
  async #tellCheckpointed(): Promise<void> {
    const sources = this.#job.inputs.flatMap((input) =>
      input instanceof SourceInputDStream && input.connector.connector.checkpointed !== undefined
        ? [input.connector]
        : [],
    );
    if (sources.length === 0) return;
    await new Promise((resolve) => setImmediate(resolve));
    for (const { id, connector } of sources) {
      try {
        await connector.checkpointed?.();
      } catch (error) {
        this.#logger.warn(
          { err: error, input: id },
          "the source could not commit what the checkpoint covers; a later acknowledgement commits it",
        );
      }
    }
  }

  // Once `keep` checkpoints are known, the oldest kept one bounds what the logs must hold.
  async #truncateLogs(): Promise<void> {
    while (this.#walHistory.length > this.settings.keep) this.#walHistory.shift();
    if (this.#walHistory.length < this.settings.keep) return;
    const oldest = this.#walHistory[0] as Map<string, number | undefined>;
    for (const ledger of this.#ledgers) {
      try {
        await ledger.truncateThrough(oldest.get(ledger.name));
      } catch (error) {
        this.#logger.warn(
          { err: error, input: ledger.name },
          "could not truncate the write-ahead log",
        );
      }
    }
  }

  // The newest checkpoint this job can resume from: one whose restart time a timer can reach
  // and whose every operator state has the shape its operator saves. A checkpoint passes its
  // checksum whatever wrote it, so one that fails these checks is corrupt and an older one is used.
  #choose(now: number, interval: number): RecoveredCheckpoint | undefined {
    if (this.#candidates === undefined) return undefined;
    const skipped = [...this.#candidates.skipped];
    for (const candidate of this.#candidates.candidates) {
      const problem = this.#problemOf(candidate.checkpoint, now, interval);
      if (problem === undefined) return { ...candidate, skipped };
      const error = new SluiceError(
        "SLUICE_CHECKPOINT_CORRUPT",
        `${candidate.file} passed its checksum but cannot be restored: ${problem}`,
      );
      this.#logger.warn(
        { err: error, file: candidate.file },
        "skipping a checkpoint that cannot be restored",
      );
      skipped.push({ file: candidate.file, error });
    }
    throw new SluiceError(
      "SLUICE_CHECKPOINT_CORRUPT",
      `no checkpoint in ${this.settings.directory} can be restored: ${skipped.map(({ error }) => error.message).join("; ")}. Restore the folder from a backup, or remove it to start the job over from its sources' start positions`,
    );
  }

  #problemOf(checkpoint: CheckpointData, now: number, interval: number): string | undefined {
    const restartIn = checkpoint.time + interval - now;
    if (restartIn > MAX_DURATION_MS) {
      return `its batch time ${checkpoint.time} is ${formatMs(restartIn)} ahead of the clock (${now}), further than a timer can wait; was the clock set back, or the checkpoint copied from elsewhere?`;
    }
    const byName = new Map(this.#operators.map((named) => [named.name, named]));
    for (const entry of checkpoint.operators) {
      const named = byName.get(entry.name);
      // State of another kind or other settings is the job's change, not damage: dropped and
      // reported when restoring.
      if (
        named === undefined ||
        entry.kind !== named.operator.stateKind ||
        entry.fingerprint !== named.operator.stateFingerprint()
      ) {
        continue;
      }
      try {
        named.operator.checkState(deserialize(entry.state));
      } catch (error) {
        return `the state of "${entry.name}" (${entry.kind}): ${messageOf(error)}`;
      }
    }
    return undefined;
  }

  #restoreOperators(recovered: RecoveredCheckpoint): {
    restoredOperators: string[];
    droppedState: ReportEntry[];
    operatorsWithoutState: ReportEntry[];
  } {
    const time = recovered.checkpoint.time;
    const saved = new Map(recovered.checkpoint.operators.map((entry) => [entry.name, entry]));
    const restoredOperators: string[] = [];
    const droppedState: ReportEntry[] = [];
    const operatorsWithoutState: ReportEntry[] = [];
    for (const named of this.#operators) {
      const entry = saved.get(named.name);
      saved.delete(named.name);
      const { operator } = named;
      let reason: string | undefined;
      if (entry === undefined) {
        reason = "the checkpoint has no state under this name (a new or renamed operator)";
      } else if (entry.kind !== operator.stateKind) {
        reason = `the checkpoint holds ${entry.kind} state under this name, not ${operator.stateKind}`;
        droppedState.push({ name: entry.name, reason });
      } else if (entry.fingerprint !== operator.stateFingerprint()) {
        reason = `its settings changed from ${entry.fingerprint} to ${operator.stateFingerprint()}`;
        droppedState.push({ name: entry.name, reason });
      } else {
        try {
          operator.restoreState(deserializeOwned(entry.state), time);
          restoredOperators.push(named.name);
          continue;
        } catch (error) {
          reason = `its saved state cannot be read (${messageOf(error)})`;
          droppedState.push({ name: entry.name, reason });
        }
      }
      operator.startFresh(time);
      operatorsWithoutState.push({
        name: named.name,
        reason: named.derived
          ? `${reason}; its name is derived from the graph, name it with .name("…") to keep its state when the job changes`
          : reason,
      });
    }
    for (const entry of saved.values()) {
      droppedState.push({
        name: entry.name,
        reason: `no ${entry.kind} operator of the job has this name${entry.derivedName ? " (a derived name: operators were added, removed or reordered)" : ""}`,
      });
    }
    return { restoredOperators, droppedState, operatorsWithoutState };
  }

  #attachLedgers(
    inputs: readonly GraphInput[],
    recovered: RecoveredCheckpoint | undefined,
  ): { resumedInputs: string[]; droppedInputs: string[]; unrecoverableInputs: string[] } {
    const savedInputs = new Map(recovered?.checkpoint.inputs.map((input) => [input.name, input]));
    const resumedInputs: string[] = [];
    const unrecoverableInputs: string[] = [];
    for (const input of inputs) {
      if (!(input instanceof SourceInputDStream)) {
        unrecoverableInputs.push(`${input.operatorName} (input ${input.inputId})`);
        continue;
      }
      const name = input.connector.id;
      const replays = new Map<number, InputExtent>();
      for (const intent of recovered?.intents ?? []) {
        const extent = intent.inputs.find((candidate) => candidate.name === name);
        if (extent !== undefined) replays.set(intent.time, extent);
      }
      const saved = savedInputs.get(name);
      savedInputs.delete(name);
      const ledger = new SourceLedger({
        name,
        delivery: input.delivery,
        wal: input.replayable
          ? undefined
          : new WriteAheadLog(join(this.settings.directory, "wal", fileNameOf(name)), {
              fs: this.settings.fs,
              assertWritable: () => {
                const lost = this.#lock?.lost;
                if (lost !== undefined) throw lost;
              },
              ...(this.settings.walMaxBytes === undefined
                ? {}
                : { maxBytes: this.settings.walMaxBytes }),
              ...(this.settings.walSegmentBytes === undefined
                ? {}
                : { segmentBytes: this.settings.walSegmentBytes }),
            }),
        recovered:
          recovered === undefined
            ? undefined
            : (saved ?? { name, offsets: new Map(), walSequence: undefined }),
        replays,
        firstStartedAt: recovered?.checkpoint.firstStartedAt ?? Date.now(),
        replayTimeoutMs: this.settings.replayTimeoutMs,
        logger: this.#logger.child({ input: name }),
        recordId: input.recordId,
        onReplayProblem: (problem) => {
          this.#replayProblems.push(problem);
          this.#logger.warn(problem);
        },
      });
      input.attachLedger(ledger);
      this.#ledgers.push(ledger);
      if (saved !== undefined) resumedInputs.push(name);
    }
    return { resumedInputs, droppedInputs: [...savedInputs.keys()], unrecoverableInputs };
  }

  // Another run holds the folder now: this one must write nothing more to it, for good.
  #takenOver(error: SluiceError): void {
    if (this.#failed && this.#failure === error) return;
    this.#fail(error);
  }

  #fail(error: SluiceError): void {
    this.#logger.error({ err: error }, error.message);
    this.#job.reportError(error);
    this.#abandon(error);
  }

  // Checkpointing failed for good: nothing is checkpointed or acknowledged until a restart,
  // which replays from the last checkpoint. The ledgers stop tracking batches and drop the
  // acknowledgements they hold, so a job left running keeps bounded memory.
  #abandon(failure: unknown): void {
    this.#failed = true;
    this.#failure = failure;
    this.#generated.clear();
    for (const ledger of this.#ledgers) ledger.abandonAcknowledgements();
  }

  // After the failure, a batch done lets the inputs forget what they handed it: its reads'
  // acknowledgements were dropped by the ledgers (calling them does nothing), so this only
  // frees the batch's blocks; the failure keeps an input from settling a read that brought
  // nothing.
  #release(time: number): void {
    for (const input of this.#job.inputs) input.batchCompleted(time, this.#failure);
  }
}

function walSequences(checkpoint: CheckpointData): Map<string, number | undefined> {
  return new Map(checkpoint.inputs.map((input) => [input.name, input.walSequence]));
}

/** A connector id as a folder name (`source:socket#1` → `source_socket_1`). */
function fileNameOf(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "_");
}

function isTakeover(error: unknown): error is SluiceError {
  return error instanceof SluiceError && error.code === "SLUICE_CHECKPOINT_TAKEN_OVER";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
