import type { GraphInput } from "../dstream/dstream-graph.js";
import { SluiceError } from "../errors/sluice-error.js";
import { SourceInputDStream } from "../plugins/source-input-dstream.js";

/**
 * Refuses batches that may overlap (`concurrentJobs` above 1) when a source's acknowledgement
 * commits a sink's writes too (`Source.pairedSink`, a Kafka source and sink paired by
 * `transactionalId`): one batch's acknowledgement would commit what an overlapping batch has
 * written so far with only the first batch's offsets, so a crash outputs those writes twice
 * (or, after a nack, loses them).
 *
 * @example
 * refuseOverlappingPairedBatches(graph.inputs, options.concurrentJobs);
 */
export function refuseOverlappingPairedBatches(
  inputs: readonly GraphInput[],
  concurrentJobs: number,
): void {
  if (concurrentJobs <= 1) return;
  for (const input of inputs) {
    if (!(input instanceof SourceInputDStream)) continue;
    const source = input.connector.connector;
    const sink = source.pairedSink?.();
    if (sink === undefined) continue;
    throw new SluiceError(
      "SLUICE_INVALID_CONFIG",
      `concurrentJobs: ${concurrentJobs} lets batches overlap, but source "${input.connector.id}" commits the writes of ${sink} together with its acknowledgements (one transaction, exactly-once): a batch's acknowledgement would commit another batch's writes with only its own offsets, and a crash would then output them twice. Use concurrentJobs: 1 (the default), or an idempotent sink with a source that is not paired with it (no transactionalId)`,
    );
  }
}
