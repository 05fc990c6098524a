// After a write the stop cut off, a sink has given up its connection: the next write must not
// go out on it, and goes through once the sink has connected again.
import type { Sink, SinkRecord, WriteBatchContext } from "sluice/connector";
import { expect } from "vitest";

/**
 * Expects `sink` to refuse writing `records` as not connected, then connects it (within
 * `signal`) and writes them.
 *
 * @example
 * await writeOverNewConnection(sink, records, context, AbortSignal.timeout(5_000));
 */
export async function writeOverNewConnection(
  sink: Sink,
  records: readonly SinkRecord[],
  context: WriteBatchContext,
  signal: AbortSignal,
): Promise<void> {
  await expect(sink.writeBatch(records, context)).rejects.toMatchObject({
    code: "SLUICE_NOT_CONNECTED",
  });
  await sink.connect(signal);
  await sink.writeBatch(records, context);
}
