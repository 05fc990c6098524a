import type { Logger } from "pino";
import type { GraphInput } from "../dstream/dstream-graph.js";
import { SluiceError } from "../errors/sluice-error.js";
import { SourceInputDStream } from "../plugins/source-input-dstream.js";
import type { RecoveryCandidates } from "./checkpoint-coordinator.js";
import type { SkippedCheckpoint } from "./checkpoint-store.js";

/**
 * Drops the checkpoints a source's own commit is behind (`Source.checkpointAheadOfCommit`): a
 * Kafka source paired with its sink resumes from the last committed transaction, so a
 * checkpoint written before a crash kept that transaction from committing holds records
 * that will be read again — restored, they would be counted into state twice. The newest
 * checkpoint every such source accepts is kept first; the batches after it replay, and their
 * outputs go into a new transaction (the uncommitted one was aborted with the crash).
 * Checkpoints are asked newest first, and asking stops at the first one accepted.
 *
 * @example
 * const screened = await dropCheckpointsAheadOfCommits(recovered, ctx.inputs, logger);
 */
export async function dropCheckpointsAheadOfCommits(
  recovered: RecoveryCandidates,
  inputs: readonly GraphInput[],
  logger: Logger,
): Promise<RecoveryCandidates> {
  const committing = inputs.filter(
    (input): input is SourceInputDStream =>
      input instanceof SourceInputDStream &&
      typeof input.connector.connector.checkpointAheadOfCommit === "function",
  );
  if (committing.length === 0) return recovered;
  const skipped: SkippedCheckpoint[] = [...recovered.skipped];
  const ahead: string[] = [];
  const { candidates } = recovered;
  for (const [index, candidate] of candidates.entries()) {
    const problems: string[] = [];
    for (const input of committing) {
      const name = input.connector.id;
      const saved = candidate.checkpoint.inputs.find((entry) => entry.name === name);
      if (saved === undefined || saved.offsets.size === 0) continue;
      const problem = await input.connector.connector.checkpointAheadOfCommit?.(saved.offsets);
      if (problem !== undefined) problems.push(`source ${name}: ${problem}`);
    }
    if (problems.length === 0) return { candidates: candidates.slice(index), skipped };
    const error = new SluiceError(
      "SLUICE_CHECKPOINT_INCOMPATIBLE",
      `${candidate.file} is ahead of what its sources committed (the run stopped between the checkpoint and the commit): ${problems.join("; ")}; an older checkpoint is restored and the batches after it run again`,
    );
    logger.warn({ file: candidate.file, problems }, "skipping a checkpoint ahead of the commits");
    skipped.push({ file: candidate.file, error });
    ahead.push(`${candidate.file}: ${problems.join("; ")}`);
  }
  throw new SluiceError(
    "SLUICE_CHECKPOINT_INCOMPATIBLE",
    `every checkpoint kept holds records its sources never committed (${ahead.join("; ")}). Were the consumer group's offsets reset, or its groupId changed? Restore them, or remove the checkpoint folder to start the job over from its sources' start positions`,
  );
}
