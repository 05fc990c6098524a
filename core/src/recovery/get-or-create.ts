import { SluiceError } from "../errors/sluice-error.js";
import type { RecoveryCandidates } from "./checkpoint-coordinator.js";
import { checkpointFolderError } from "./checkpoint-folder-error.js";
import type { CheckpointOptions } from "./checkpoint-options.js";
import { resolveCheckpointOptions } from "./checkpoint-options.js";
import { CheckpointStore } from "./checkpoint-store.js";

/** What `getOrCreate` needs of the context `create` returns. */
export interface RecoverableContext {
  readonly state: string;
  readonly checkpointDirectory: string | undefined;
  checkpoint(directory: string, options?: CheckpointOptions): void;
}

/** The context `create` built, and the checkpoints to resume it from (none: a fresh start). */
export interface PreparedContext<C> {
  readonly context: C;
  readonly recovered: RecoveryCandidates | undefined;
}

/**
 * `StreamingContext.getOrCreate`: reads the newest intact checkpoint of `directory` (a damaged
 * newer one is skipped and reported), calls `create` to build the job — the job's code defines
 * the graph, the checkpoint supplies time, offsets and state — and returns the checkpoints with
 * it, which the context restores when it starts. Without a checkpoint the context starts afresh and writes
 * its first one. A folder whose every checkpoint is damaged is refused rather than silently
 * started over.
 *
 * @example
 * const { context, recovered } = await prepareContext("/var/lib/job", () => buildJob());
 */
export async function prepareContext<C extends RecoverableContext>(
  directory: string,
  create: () => C | Promise<C>,
  options: CheckpointOptions = {},
): Promise<PreparedContext<C>> {
  const settings = resolveCheckpointOptions(directory, options);
  const store = new CheckpointStore(directory, { fs: settings.fs, keep: settings.keep });
  const { intact, skipped } = await store.readIntact().catch((error: unknown) => {
    throw checkpointFolderError(directory, error);
  });
  if (intact.length === 0 && skipped.length > 0) {
    throw new SluiceError(
      "SLUICE_CHECKPOINT_CORRUPT",
      `no intact checkpoint in ${directory}: ${skipped.map(({ error }) => error.message).join("; ")}. Restore the folder from a backup, or remove it to start the job over from its sources' start positions`,
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
  if (intact.length === 0) return { context: ctx, recovered: undefined };
  // The newest is used unless its state turns out not to fit the job's operators (checked at
  // start, once the graph is known); each older one comes with the batches generated after it.
  const candidates = [];
  for (const { checkpoint, file } of intact) {
    const { intents } = await store.readBatches(checkpoint.time);
    candidates.push({ checkpoint, file, intents });
  }
  return { context: ctx, recovered: { candidates, skipped } };
}
