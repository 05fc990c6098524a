import { SluiceError } from "../errors/sluice-error.js";
import type { Batch } from "./batch.js";
import type { DStream } from "./dstream.js";

/**
 * Checks that streams combined batch by batch share one context and one slide duration (Spark
 * raises the same error for `union` and `transformWith`).
 *
 * @example
 * checkCombinable([left, right], "union");
 */
export function checkCombinable(parents: ReadonlyArray<DStream<unknown>>, operation: string): void {
  const first = parents[0];
  if (first === undefined) {
    throw new SluiceError("SLUICE_INVALID_ARGUMENT", `${operation}: needs at least one stream`);
  }
  for (const parent of parents) {
    if (parent.scope !== first.scope) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `${operation}: every stream must belong to the same StreamingContext`,
      );
    }
  }
  const slides = new Set(parents.map((parent) => parent.slideDuration));
  if (slides.size > 1) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `${operation}: the streams have different slide durations (${[...slides].map((s) => `${s} ms`).join(", ")}); window them to a common slide first`,
    );
  }
}

/**
 * The parents' batches at `time`, or a `SLUICE_MISSING_BATCH` error when one has none: like
 * Spark, an operation over several streams (and `transform`) cannot go on without every input.
 *
 * @example
 * const [left, right] = await requireParentBatches([this.left, this.right], time, "cogroup");
 */
export async function requireParentBatches(
  parents: ReadonlyArray<DStream<unknown>>,
  time: number,
  operation: string,
): Promise<Batch<unknown>[]> {
  const batches = await Promise.all(parents.map((parent) => parent.getOrCompute(time)));
  return batches.map((batch, index) => {
    if (batch !== undefined) return batch;
    const parent = parents[index] as DStream<unknown>;
    throw new SluiceError(
      "SLUICE_MISSING_BATCH",
      `${operation} at ${time} ms: its parent ${parent.operatorName} (stream ${parent.id}) produced no batch for that time, so there is nothing to combine`,
    );
  });
}
