// The shape of many connector tests: start a job on a manual clock, run its first batch, check it
// ran without an error, and stop it with its connectors closed whatever happened.
import { closeConnectorsOf, type StreamingContext } from "sluice";
import type { ManualClock } from "sluice/testing";
import { expect } from "vitest";

/**
 * Starts `ctx`, waits for `whenStarted` (say, until its source has read what the test
 * produced), runs its batch at `clock.now() + interval`, expects no error to have been reported,
 * then stops it and closes its connectors (also when the batch fails).
 *
 * @example
 * await runFirstBatch(ctx, clock);
 */
export async function runFirstBatch(
  ctx: StreamingContext,
  clock: ManualClock,
  options: { readonly interval?: number; readonly whenStarted?: () => Promise<void> } = {},
): Promise<void> {
  await ctx.start();
  try {
    await options.whenStarted?.();
    clock.advance(options.interval ?? 1000);
    await ctx.scope.awaitProcessed(clock.now());
    expect(ctx.scope.firstError()).toBeUndefined();
  } finally {
    await ctx.stop();
    await closeConnectorsOf(ctx);
  }
}
