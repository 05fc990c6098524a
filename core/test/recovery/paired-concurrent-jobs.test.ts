// A source whose acknowledgement commits its paired sink's writes (a Kafka source and sink paired
// by transactionalId) needs batches that never overlap: with two at once, one batch's
// acknowledgement would commit what the other has written so far with only its own offsets. A
// job that combines such a pair with concurrentJobs above 1 is refused when it starts.
import { batchRecords, SluiceError, StreamingContext } from "sluice";
import { describe, expect, it } from "vitest";
import { folderPerTest, ManualClock, processed, startJob } from "./job-harness.js";
import { MemoryStream } from "./memory-stream.js";
import { MemoryTransactionalPair } from "./memory-transactional-pair.js";

const folder = folderPerTest("sluice-paired-concurrent-");
const decoder = new TextDecoder();

function pairedJob(pair: MemoryTransactionalPair) {
  return (ctx: StreamingContext) => {
    ctx
      .source(pair.plugin(), {}, { id: "paired" })
      .map((record) => decoder.decode(record.value))
      .foreachBatch((batch, time) => pair.write(time, batchRecords(batch)));
  };
}

/** What `start()` threw, or `undefined`. */
function startFailure(ctx: StreamingContext): unknown {
  try {
    void ctx.start();
  } catch (error) {
    return error;
  }
  folder.running.push(ctx);
  return undefined;
}

describe("concurrentJobs above 1 with a source paired with its sink", () => {
  it("is refused at start, naming concurrentJobs, the source and the sink, and saying what to do", () => {
    const pair = new MemoryTransactionalPair();
    const ctx = new StreamingContext({
      batchInterval: 1000,
      clock: new ManualClock(0),
      concurrentJobs: 2,
    });
    pairedJob(pair)(ctx);
    const failure = startFailure(ctx);
    expect(failure).toBeInstanceOf(SluiceError);
    expect(failure).toMatchObject({ code: "SLUICE_INVALID_CONFIG" });
    const message = (failure as SluiceError).message;
    expect(message).toContain("concurrentJobs: 2");
    expect(message).toContain('source "paired"');
    expect(message).toContain("the in-memory paired sink");
    expect(message).toContain("Use concurrentJobs: 1");
    expect(message).toContain("idempotent sink");
    // Refused before anything ran: nothing read, nothing written.
    expect(pair.reads).toBe(0);
    expect(ctx.state).toBe("INITIALIZED");
  });

  it("is refused with checkpointing too, before the checkpoint folder is touched", async () => {
    const pair = new MemoryTransactionalPair();
    const ctx = await StreamingContext.getOrCreate(folder.path, () => {
      const created = new StreamingContext({
        batchInterval: 1000,
        clock: new ManualClock(0),
        concurrentJobs: 3,
      });
      pairedJob(pair)(created);
      return created;
    });
    expect(startFailure(ctx)).toMatchObject({
      code: "SLUICE_INVALID_CONFIG",
      message: expect.stringContaining("concurrentJobs: 3"),
    });
    expect(pair.reads).toBe(0);
  });

  it("the same pair runs with concurrentJobs 1, and an unpaired source with 2", async () => {
    const pair = new MemoryTransactionalPair();
    const clock = new ManualClock(0);
    const ctx = await startJob(folder.path, clock, pairedJob(pair), {}, 1000, {
      concurrentJobs: 1,
    });
    folder.running.push(ctx);
    pair.append("a");
    await pair.poll();
    clock.advance(1000);
    await processed(ctx, 1000);
    expect(pair.committedOffset).toBe(1);

    const stream = new MemoryStream();
    const unpaired = new StreamingContext({
      batchInterval: 1000,
      clock: new ManualClock(0),
      concurrentJobs: 2,
    });
    unpaired.source(stream.plugin(), {}, { id: "stream" }).foreachBatch(() => undefined);
    expect(startFailure(unpaired)).toBeUndefined();
    expect(unpaired.state).toBe("ACTIVE");
  });
});
