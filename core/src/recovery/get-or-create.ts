import type { StreamingContext } from "../context/streaming-context.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { RecoveredCheckpoint } from "./checkpoint-coordinator.js";
import type { CheckpointOptions } from "./checkpoint-options.js";
import { resolveCheckpointOptions } from "./checkpoint-options.js";
import { CheckpointStore } from "./checkpoint-store.js";

const recoveredByContext = new WeakMap<StreamingContext, RecoveredCheckpoint>();

/**
 * `StreamingContext.getOrCreate`: reads the newest intact checkpoint of `directory` (a damaged
 * newer one is skipped and reported), calls `create` to build the job — the job's code defines
 * the graph, the checkpoint supplies time, offsets and state — and attaches the checkpoint, which
 * the context restores when it starts. Without a checkpoint the context starts afresh and writes
 * its first one. A folder whose every checkpoint is damaged is refused rather than silently
 * started over.
 *
 * @example
 * const ctx = await getOrCreateContext("/var/lib/job", () => buildJob());
 * await ctx.start();
 */
export async function getOrCreateContext(
  directory: string,
  create: () => StreamingContext | Promise<StreamingContext>,
  options: CheckpointOptions = {},
): Promise<StreamingContext> {
  const settings = resolveCheckpointOptions(directory, options);
  const store = new CheckpointStore(directory, { fs: settings.fs, keep: settings.keep });
  const latest = await store.readLatest();
  if (latest.checkpoint === undefined && latest.skipped.length > 0) {
    throw new SluiceError(
      "SLUICE_CHECKPOINT_CORRUPT",
      `no intact checkpoint in ${directory}: ${latest.skipped.map(({ error }) => error.message).join("; ")}. Restore the folder from a backup, or remove it to start the job over from its sources' start positions`,
    );
  }
  const ctx = await create();
  if (typeof ctx !== "object" || ctx === null || typeof ctx.checkpoint !== "function") {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      "getOrCreate: the create function must return the job's StreamingContext",
    );
  }
  if (ctx.state !== "INITIALIZED") {
    throw new SluiceError(
      "SLUICE_ILLEGAL_STATE",
      `getOrCreate: the create function returned a context that is ${ctx.state}; return it before start()`,
    );
  }
  if (ctx.checkpointDirectory !== undefined && ctx.checkpointDirectory !== directory) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `getOrCreate: the context checkpoints to ${ctx.checkpointDirectory}, not ${directory}; use one folder`,
    );
  }
  ctx.checkpoint(directory, options);
  if (latest.checkpoint !== undefined && latest.file !== undefined) {
    const { intents } = await store.readBatches(latest.checkpoint.time);
    recoveredByContext.set(ctx, {
      checkpoint: latest.checkpoint,
      file: latest.file,
      skipped: latest.skipped,
      intents,
    });
  }
  return ctx;
}

/**
 * The checkpoint `getOrCreate` attached to `ctx`, if any (read once, at start).
 *
 * @example
 * const recovered = recoveredCheckpointOf(ctx);
 */
export function recoveredCheckpointOf(ctx: StreamingContext): RecoveredCheckpoint | undefined {
  return recoveredByContext.get(ctx);
}
