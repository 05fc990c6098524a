// A sink refusing records by index, in a job with a dead-letter sink: each refused record goes
// to the dead letters, the others are written once, and every dead letter names the record's
// position in the batch, though the sink counts in a write without the records refused before.
import { StreamingContext } from "sluice";
import {
  defineSink,
  InvalidRecordError,
  type Sink,
  type SinkRecord,
  type WriteBatchContext,
} from "sluice/connector";
import { ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";

const decoder = new TextDecoder();
const running: StreamingContext[] = [];

afterEach(async () => {
  for (const ctx of running.splice(0)) await ctx.stop().catch(() => undefined);
});

/** Refuses, all or nothing, the first record whose value it was told to refuse. */
class RefusingSink implements Sink {
  constructor(
    private readonly refused: ReadonlySet<string>,
    readonly writes: string[][],
  ) {}
  async connect(): Promise<void> {}
  async writeBatch(records: readonly SinkRecord[], context: WriteBatchContext): Promise<void> {
    const values = records.map((record) => decoder.decode(record.value));
    const index = values.findIndex((value) => this.refused.has(value));
    if (index >= 0) {
      throw new InvalidRecordError(
        `record ${index} of batch ${context.batchTime} (partition ${context.partition}) is refused`,
        { recordIndex: index },
      );
    }
    this.writes.push(values);
  }
  async close(): Promise<void> {}
}

/** Keeps what it is given: here, the dead letters as JSON lines. */
class CollectingSink implements Sink {
  constructor(readonly lines: string[]) {}
  async connect(): Promise<void> {}
  async writeBatch(records: readonly SinkRecord[]): Promise<void> {
    this.lines.push(...records.map((record) => decoder.decode(record.value)));
  }
  async close(): Promise<void> {}
}

async function runBatch(values: string[], refused: string[]) {
  const writes: string[][] = [];
  const letters: string[] = [];
  const refusing = defineSink({
    name: "refusing",
    version: "1.0.0",
    config: z.strictObject({}),
    capabilities: { idempotent: true },
    create: () => new RefusingSink(new Set(refused), writes),
  });
  const collecting = defineSink({
    name: "collecting",
    version: "1.0.0",
    config: z.strictObject({}),
    capabilities: { idempotent: true },
    create: () => new CollectingSink(letters),
  });
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
  running.push(ctx);
  ctx.deadLetters(collecting, {});
  ctx.queueStream([values]).sink(refusing, {}, { id: "refusing" });
  await ctx.start();
  clock.advance(1000);
  await ctx.scope.awaitProcessed(1000);
  expect(ctx.scope.firstError()).toBeUndefined();
  return { writes, letters: letters.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe("a sink refusing records by index, with a dead-letter sink", () => {
  it("diverts records 1 and 3 of 5, each dead letter naming its position in the batch, and writes the other 3 once", async () => {
    const { writes, letters } = await runBatch(
      ["r0", "bad1", "r2", "bad3", "r4"],
      ["bad1", "bad3"],
    );
    expect(writes).toEqual([["r0", "r2", "r4"]]);
    expect(letters).toEqual([
      {
        batchTime: 1000,
        operation: "sink(refusing)",
        error: "record 1 of batch 1000 (partition 0) is refused",
        errorCode: "SLUICE_INVALID_RECORD",
        batchPosition: { partition: 0, index: 1 },
        record: "bad1",
      },
      {
        batchTime: 1000,
        operation: "sink(refusing)",
        // The sink saw [r0, r2, bad3, r4]: its "record 2" is record 3 of the batch.
        error:
          "record 2 of batch 1000 (partition 0) is refused (the sink counted in a write that left out the 1 record it refused before; in the batch it is record 3 of partition 0)",
        errorCode: "SLUICE_INVALID_RECORD",
        batchPosition: { partition: 0, index: 3 },
        record: "bad3",
      },
    ]);
  });

  it("keeps the sink's own message when the refused record is at the same index in the batch", async () => {
    const { writes, letters } = await runBatch(["bad0", "r1", "r2"], ["bad0"]);
    expect(writes).toEqual([["r1", "r2"]]);
    expect(letters).toMatchObject([
      {
        error: "record 0 of batch 1000 (partition 0) is refused",
        batchPosition: { partition: 0, index: 0 },
        record: "bad0",
      },
    ]);
  });
});
