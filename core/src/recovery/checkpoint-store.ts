import { join } from "node:path";
import { SluiceError } from "../errors/sluice-error.js";
import { isTemporaryFile, writeFileAtomically } from "./atomic-write.js";
import {
  asBatchIntent,
  asCheckpointData,
  type BatchIntent,
  type CheckpointData,
} from "./checkpoint-data.js";
import { type DurableFileSystem, nodeFileSystem } from "./durable-fs.js";
import { decodeEnvelope, encodeEnvelope } from "./envelope.js";

/** How a `CheckpointStore` is set up. */
export interface CheckpointStoreOptions {
  /** The file system (default: the real one; tests pass a `FaultInjectingFileSystem`). */
  readonly fs?: DurableFileSystem;
  /** How many checkpoints to keep (at least 2, default 3): older ones are deleted. */
  readonly keep?: number;
}

/** A checkpoint file that could not be used, and why. */
export interface SkippedCheckpoint {
  readonly file: string;
  readonly error: SluiceError;
}

/** What `readLatest` found. */
export interface LatestCheckpoint {
  /** The newest checkpoint that reads back intact, if any. */
  readonly checkpoint: CheckpointData | undefined;
  /** The file it came from. */
  readonly file: string | undefined;
  /** Newer checkpoint files that were truncated or corrupt (newest first). */
  readonly skipped: readonly SkippedCheckpoint[];
}

const CHECKPOINT = /^checkpoint-(\d{16})\.ckpt$/;
const BATCH = /^batch-(\d{16})\.pending$/;

/**
 * The checkpoint folder: full checkpoints (`checkpoint-<time>.ckpt`, the newest `keep` kept) and
 * the record of each generated batch (`batch-<time>.pending`, kept until no retained checkpoint
 * predates it). Every file is written atomically (temporary file, fsync, rename, fsync of the
 * folder) with a versioned header and a CRC-32, so a crash at any moment leaves the previous
 * files intact, and a damaged file is detected and skipped.
 *
 * @example
 * const store = new CheckpointStore("/var/lib/job/checkpoint");
 * await store.write(checkpoint);
 * const { checkpoint: latest, skipped } = await store.readLatest();
 */
export class CheckpointStore {
  readonly directory: string;
  readonly #fs: DurableFileSystem;
  readonly #keep: number;
  #prepared: Promise<void> | undefined;

  constructor(directory: string, options: CheckpointStoreOptions = {}) {
    this.directory = directory;
    this.#fs = options.fs ?? nodeFileSystem;
    this.#keep = options.keep ?? 3;
    if (!Number.isInteger(this.#keep) || this.#keep < 2) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `checkpoint: keep must be an integer of at least 2 (a damaged newest checkpoint falls back to the one before), got ${String(options.keep)}`,
      );
    }
  }

  /** The file system the store writes to. */
  get fs(): DurableFileSystem {
    return this.#fs;
  }

  /**
   * Writes a checkpoint, then deletes checkpoints beyond the newest `keep` and batch records no
   * kept checkpoint needs.
   *
   * @example
   * await store.write({ ...checkpoint, time: 3000 });
   */
  async write(checkpoint: CheckpointData): Promise<void> {
    await this.#prepare();
    const name = `checkpoint-${pad(checkpoint.time)}.ckpt`;
    await writeFileAtomically(
      this.#fs,
      this.directory,
      name,
      encodeEnvelope("checkpoint", checkpoint),
    );
    await this.#prune();
  }

  /**
   * Records a generated batch (what each input put into it) before it runs.
   *
   * @example
   * await store.writeBatch({ time: 4000, inputs: [...] });
   */
  async writeBatch(intent: BatchIntent): Promise<void> {
    await this.#prepare();
    await writeFileAtomically(
      this.#fs,
      this.directory,
      `batch-${pad(intent.time)}.pending`,
      encodeEnvelope("batch", intent),
    );
  }

  /**
   * The newest checkpoint that reads back intact; truncated or corrupt newer ones are listed in
   * `skipped` (and left on disk for inspection).
   *
   * @example
   * const { checkpoint, skipped } = await store.readLatest();
   */
  async readLatest(): Promise<LatestCheckpoint> {
    const skipped: SkippedCheckpoint[] = [];
    for (const time of await this.checkpointTimes()) {
      const file = join(this.directory, `checkpoint-${pad(time)}.ckpt`);
      try {
        const bytes = await this.#fs.readFile(file);
        const checkpoint = asCheckpointData(decodeEnvelope("checkpoint", bytes, file), file);
        return { checkpoint, file, skipped };
      } catch (error) {
        skipped.push({ file, error: asStoreError(error, file) });
      }
    }
    return { checkpoint: undefined, file: undefined, skipped };
  }

  /**
   * Every checkpoint that reads back intact, newest first (a job falls back to an older one when
   * a newer one cannot be restored); truncated or corrupt ones are listed in `skipped`.
   *
   * @example
   * const { intact, skipped } = await store.readIntact();
   */
  async readIntact(): Promise<{
    intact: { checkpoint: CheckpointData; file: string }[];
    skipped: SkippedCheckpoint[];
  }> {
    const intact: { checkpoint: CheckpointData; file: string }[] = [];
    const skipped: SkippedCheckpoint[] = [];
    for (const time of await this.checkpointTimes()) {
      const file = join(this.directory, `checkpoint-${pad(time)}.ckpt`);
      try {
        const bytes = await this.#fs.readFile(file);
        intact.push({
          checkpoint: asCheckpointData(decodeEnvelope("checkpoint", bytes, file), file),
          file,
        });
      } catch (error) {
        skipped.push({ file, error: asStoreError(error, file) });
      }
    }
    return { intact, skipped };
  }

  /** The times of the checkpoint files present, newest first. */
  async checkpointTimes(): Promise<number[]> {
    return timesOf(await this.#fs.list(this.directory), CHECKPOINT).sort((a, b) => b - a);
  }

  /**
   * The batch records after `time`, oldest first. A damaged record ends the list (the batches
   * after it are generated anew), and is reported in `skipped`.
   *
   * @example
   * const { intents } = await store.readBatches(checkpoint.time);
   */
  async readBatches(
    time: number,
  ): Promise<{ intents: BatchIntent[]; skipped: readonly SkippedCheckpoint[] }> {
    const times = timesOf(await this.#fs.list(this.directory), BATCH)
      .filter((batchTime) => batchTime > time)
      .sort((a, b) => a - b);
    const intents: BatchIntent[] = [];
    for (const batchTime of times) {
      const file = join(this.directory, `batch-${pad(batchTime)}.pending`);
      try {
        const bytes = await this.#fs.readFile(file);
        intents.push(asBatchIntent(decodeEnvelope("batch", bytes, file), file));
      } catch (error) {
        return { intents, skipped: [{ file, error: asStoreError(error, file) }] };
      }
    }
    return { intents, skipped: [] };
  }

  /**
   * Deletes batch records after `time` (a run that starts without replaying them).
   *
   * @example
   * await store.discardBatchesAfter(checkpoint.time);
   */
  async discardBatchesAfter(time: number): Promise<void> {
    for (const name of await this.#fs.list(this.directory)) {
      const match = BATCH.exec(name);
      if (match !== null && Number(match[1]) > time) {
        await this.#fs.remove(join(this.directory, name));
      }
    }
  }

  /**
   * The time of the oldest checkpoint kept: write-ahead log entries and batch records before it
   * are no longer needed, even when the newest checkpoints turn out damaged.
   *
   * @example
   * const horizon = await store.oldestKeptTime();
   */
  async oldestKeptTime(): Promise<number | undefined> {
    const kept = (await this.checkpointTimes()).slice(0, this.#keep);
    return kept[kept.length - 1];
  }

  /**
   * Deletes temporary files a crash left in the middle of a write (call before the job runs,
   * never while it writes).
   *
   * @example
   * await store.removeTemporaryFiles();
   */
  async removeTemporaryFiles(): Promise<void> {
    for (const name of await this.#fs.list(this.directory)) {
      if (isTemporaryFile(name)) await this.#fs.remove(join(this.directory, name));
    }
  }

  #prepare(): Promise<void> {
    this.#prepared ??= this.#fs.mkdir(this.directory).catch((error: unknown) => {
      this.#prepared = undefined;
      throw new SluiceError(
        "SLUICE_CHECKPOINT_WRITE_FAILED",
        `cannot create the checkpoint folder ${this.directory}: ${messageOf(error)}`,
        { cause: error },
      );
    });
    return this.#prepared;
  }

  async #prune(): Promise<void> {
    const names = await this.#fs.list(this.directory);
    const checkpoints = timesOf(names, CHECKPOINT).sort((a, b) => b - a);
    const kept = checkpoints.slice(0, this.#keep);
    const oldestKept = kept[kept.length - 1] ?? Number.NEGATIVE_INFINITY;
    for (const name of names) {
      const checkpoint = CHECKPOINT.exec(name);
      const batch = BATCH.exec(name);
      const stale =
        (checkpoint !== null && Number(checkpoint[1]) < oldestKept) ||
        (batch !== null && Number(batch[1]) <= oldestKept);
      if (stale) await this.#fs.remove(join(this.directory, name));
    }
  }
}

function timesOf(names: readonly string[], pattern: RegExp): number[] {
  const times: number[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (match !== null) times.push(Number(match[1]));
  }
  return times;
}

function pad(time: number): string {
  return String(time).padStart(16, "0");
}

function asStoreError(error: unknown, file: string): SluiceError {
  if (error instanceof SluiceError) return error;
  return new SluiceError("SLUICE_CHECKPOINT_CORRUPT", `cannot read ${file}: ${messageOf(error)}`, {
    cause: error,
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
