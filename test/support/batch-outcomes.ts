// What the tests of a job stopped in the middle of a batch assert on: which of its batches were
// written and which failed, in the order they completed, without reading the listener events.
import type { StreamingContext } from "sluice";

/**
 * Listens to `ctx` and returns the outcome of every completed batch with records, in order:
 * "<batchTime> written", or "<batchTime> failed" when one of its outputs failed.
 *
 * @example
 * const outcomes = batchOutcomes(ctx);
 * // ... run two batches, the second one cut off by ctx.stop()
 * expect(outcomes).toEqual(["1000 written", "2000 failed"]);
 */
export function batchOutcomes(ctx: StreamingContext): readonly string[] {
  const outcomes: string[] = [];
  ctx.addListener({
    onBatchCompleted: ({ batchTime, numRecords, outputOperationInfos }) => {
      if (numRecords === 0) return;
      const failed = [...outputOperationInfos.values()].some(
        (info) => info.failureReason !== undefined,
      );
      outcomes.push(`${batchTime} ${failed ? "failed" : "written"}`);
    },
  });
  return outcomes;
}
