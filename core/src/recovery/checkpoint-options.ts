import { SluiceError } from "../errors/sluice-error.js";
import { type Duration, parseDuration } from "../util/duration.js";
import type { DurableFileSystem } from "./durable-fs.js";
import { nodeFileSystem } from "./durable-fs.js";

/** How a job checkpoints (`ctx.checkpoint(directory, options)`, `StreamingContext.getOrCreate`). */
export interface CheckpointOptions {
  /**
   * How often a checkpoint is written: a multiple of the batch interval (default: after every
   * batch). Sources are acknowledged only once a checkpoint covers their records, and a crash
   * replays the batches since the last checkpoint, so a longer interval means later
   * acknowledgements and longer replays for less disk traffic.
   */
  readonly interval?: Duration;
  /**
   * How often a checkpoint is written while the job is behind its clock — catching up the
   * batches of a down time after a restart, or overloaded (default 10 s of batch time, or
   * `interval` when that is longer). A crash while catching up replays at most this much.
   */
  readonly catchUpInterval?: Duration;
  /** How many checkpoints to keep (default 3, at least 2: a damaged newest one falls back). */
  readonly keep?: number;
  /** Limits of the write-ahead log of sources that cannot replay. */
  readonly writeAheadLog?: {
    /** The most the log of one source may hold; reading waits beyond it (default 1 GiB). */
    readonly maxBytes?: number;
    /** Size of one log file (default 16 MiB). */
    readonly segmentBytes?: number;
  };
  /** How long a replayed batch waits for its source to deliver its records again (default 60 s). */
  readonly replayTimeout?: Duration;
  /** The file system to write to (default: the real one; tests pass a `FaultInjectingFileSystem`). */
  readonly fileSystem?: DurableFileSystem;
}

/** Checkpoints while catching up: one per 10 s of batch time by default. */
const DEFAULT_CATCH_UP_INTERVAL_MS = 10_000;

/** Checkpoint options checked, with defaults applied. */
export interface CheckpointSettings {
  readonly directory: string;
  /** `undefined`: after every batch. */
  readonly intervalMs: number | undefined;
  /** The spacing of checkpoints while the job is behind its clock. */
  readonly catchUpIntervalMs: number;
  readonly keep: number;
  readonly walMaxBytes: number | undefined;
  readonly walSegmentBytes: number | undefined;
  readonly replayTimeoutMs: number;
  readonly fs: DurableFileSystem;
}

/**
 * Checks checkpoint options (every problem at once).
 *
 * @example
 * const settings = resolveCheckpointOptions("/var/lib/job", { interval: "10s" });
 */
export function resolveCheckpointOptions(
  directory: string,
  options: CheckpointOptions = {},
): CheckpointSettings {
  const problems: string[] = [];
  if (typeof directory !== "string" || directory === "") {
    problems.push("the checkpoint directory must be a non-empty path");
  }
  const attempt = <R>(read: () => R): R | undefined => {
    try {
      return read();
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  };
  const intervalMs =
    options.interval === undefined
      ? undefined
      : attempt(() => parseDuration(options.interval as Duration, "checkpoint interval"));
  const catchUpIntervalMs =
    options.catchUpInterval === undefined
      ? DEFAULT_CATCH_UP_INTERVAL_MS
      : (attempt(() => parseDuration(options.catchUpInterval as Duration, "catchUpInterval")) ?? 0);
  const replayTimeoutMs =
    options.replayTimeout === undefined
      ? 60_000
      : (attempt(() => parseDuration(options.replayTimeout as Duration, "replayTimeout")) ?? 0);
  const keep = options.keep ?? 3;
  if (!Number.isInteger(keep) || keep < 2) {
    problems.push(`keep must be an integer of at least 2, got ${String(options.keep)}`);
  }
  if (problems.length > 0) {
    throw new SluiceError("SLUICE_INVALID_ARGUMENT", `checkpoint: ${problems.join("; ")}`);
  }
  return {
    directory,
    intervalMs,
    catchUpIntervalMs: Math.max(catchUpIntervalMs, intervalMs ?? 0),
    keep,
    walMaxBytes: options.writeAheadLog?.maxBytes,
    walSegmentBytes: options.writeAheadLog?.segmentBytes,
    replayTimeoutMs,
    fs: options.fileSystem ?? nodeFileSystem,
  };
}
