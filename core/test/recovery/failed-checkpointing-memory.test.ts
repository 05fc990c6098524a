// Once checkpointing has failed for good (a batch record could not be written, or a batch
// failed), nothing is checkpointed or acknowledged until the job restarts, which replays from
// the last checkpoint. A job left running meanwhile must not keep bookkeeping per batch or per
// record: its memory stays bounded however many batches run, and the restart still loses
// nothing and outputs nothing twice.
import type { StreamingContext } from "sluice";
import { FaultInjectingFileSystem } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { SourceInputDStream } from "../../src/plugins/source-input-dstream.js";
import type { SourceLedger } from "../../src/recovery/source-ledger.js";
import { folderPerTest, ManualClock, Outputs, processed, startJob } from "./job-harness.js";
import { until } from "./memory-brokers.js";
import { MemoryStream, streamValuesJob } from "./memory-stream.js";

const folder = folderPerTest("sluice-failed-checkpointing-");
const BATCHES_AFTER_FAILURE = 150;

/** The job: every record's text, written per batch; `fail` makes the output throw at a time. */
function valuesJob(stream: MemoryStream, outputs: Outputs, fail?: number) {
  return streamValuesJob(stream, outputs, {
    atOutput: (time, values) => {
      if (time === fail) throw new Error(`the output of ${time} failed (${values})`);
    },
  });
}

/** The context's connector input and its ledger. */
function inputOf(ctx: StreamingContext): { input: SourceInputDStream; ledger: SourceLedger } {
  const input = ctx.scope.graph.inputs.find((candidate) => candidate instanceof SourceInputDStream);
  if (!(input instanceof SourceInputDStream)) throw new Error("expected a connector input");
  const ledger = (input as unknown as { ledger: SourceLedger | undefined }).ledger;
  if (ledger === undefined) throw new Error("expected a ledger (checkpointing)");
  return { input, ledger };
}

/** Appends `value`, waits until the source read it, then runs the batch at `time`. */
async function runBatch(
  ctx: StreamingContext,
  clock: ManualClock,
  stream: MemoryStream,
  time: number,
  value: string,
): Promise<void> {
  stream.append("p0", value);
  await until(() => stream.caughtUp(), `${value} read`);
  clock.advance(1000);
  // Not `processed`: it throws the job's first error, which is the point here.
  await ctx.scope.awaitProcessed(time);
}

/** Every value the outputs hold, over every batch. */
function allOutput(outputs: Outputs): string[] {
  return outputs
    .batches("values")
    .flatMap(([, values]) => values as string[])
    .sort();
}

interface Failure {
  readonly what: string;
  readonly code: string;
  /** Makes checkpointing fail from the batch at 3000 on (or the output fails at 3000). */
  readonly fill?: (fs: FaultInjectingFileSystem) => void;
  /** The batches the restart replays from their records. */
  readonly replayed: number[];
  /** The most the ledger tracks, and the most acknowledgements the input holds, meanwhile. */
  readonly most: { readonly tracked: number; readonly held: number };
}

const failures: Failure[] = [
  {
    what: "a batch record cannot be written (the disk is full)",
    code: "SLUICE_CHECKPOINT_WRITE_FAILED",
    fill: (fs) => fs.fillDisk(),
    replayed: [],
    most: { tracked: 1, held: 1 },
  },
  {
    what: "a batch failed",
    code: "SLUICE_JOB_FAILED",
    replayed: [3000],
    most: { tracked: 1, held: 1 },
  },
  {
    // Each failed checkpoint leaves its acknowledgements to the next: after three in a row,
    // checkpointing stops for good. Until then the ledger watches the offsets of the batches
    // of 2000 to 5000 and the input holds their reads.
    what: "checkpoints keep failing (a disk too full for them, not for batch records)",
    code: "SLUICE_CHECKPOINT_WRITE_FAILED",
    fill: (fs) => fs.fillDisk({ only: (path) => path.includes(".checkpoint-") }),
    replayed: [3000, 4000, 5000],
    most: { tracked: 5, held: 4 },
  },
];

describe("after checkpointing failed for good", () => {
  for (const { what, code, fill, replayed, most } of failures) {
    it(`when ${what}: the ledger stays bounded over many batches, and a restart loses nothing`, async () => {
      const stream = new MemoryStream();
      const fs = new FaultInjectingFileSystem();
      const clock = new ManualClock(0);
      const failsAt = fill === undefined ? 3000 : undefined;
      const ctx = await startJob(folder.path, clock, valuesJob(stream, new Outputs(), failsAt), {
        fileSystem: fs,
      });
      folder.running.push(ctx);
      await runBatch(ctx, clock, stream, 1000, "a");
      await runBatch(ctx, clock, stream, 2000, "b");
      await until(
        () => stream.acknowledged === 2,
        "a and b acknowledged by the checkpoint at 2000",
      );
      fill?.(fs);

      const { input, ledger } = inputOf(ctx);
      let mostTracked = 0;
      let mostHeld = 0;
      const values: string[] = [];
      for (let batch = 0; batch < BATCHES_AFTER_FAILURE; batch++) {
        const value = `v${batch}`;
        values.push(value);
        await runBatch(ctx, clock, stream, 3000 + batch * 1000, value);
        mostTracked = Math.max(mostTracked, ledger.trackedEntries);
        mostHeld = Math.max(mostHeld, input.heldAcknowledgements);
      }
      expect(ctx.scope.firstError()).toMatchObject({ code });
      // Without bounds these would grow with every batch (an extent per batch, an offset per
      // record, a block per batch): at most the read waiting for the next batch is kept.
      expect(mostTracked).toBeLessThanOrEqual(most.tracked);
      expect(mostHeld).toBeLessThanOrEqual(most.held);
      expect(ledger.trackedEntries).toBeLessThanOrEqual(1);
      expect(input.heldAcknowledgements).toBeLessThanOrEqual(1);
      // Nothing acknowledged after the checkpoint at 2000.
      expect(stream.acknowledged).toBe(2);

      // The process dies; the restart replays from the checkpoint at 2000.
      stream.crash();
      fs.freeDisk();
      const outputs = new Outputs();
      const again = await startJob(
        folder.path,
        new ManualClock(2000),
        valuesJob(stream, outputs),
        {},
      );
      folder.running.push(again);
      expect(again.recoveryReport).toMatchObject({
        checkpointTime: 2000,
        replayedBatches: replayed,
      });
      const end = 3000 + replayed.length * 1000;
      const clock2 = again.scope.clock as ManualClock;
      await until(() => stream.caughtUp(), "the restart read everything again");
      clock2.advance(end - 2000);
      await processed(again, end);
      await again.stop({ graceful: true });
      expect(allOutput(outputs)).toEqual([...values].sort());
      expect(stream.acknowledged).toBe(2 + BATCHES_AFTER_FAILURE);
      expect(stream.pendingCount()).toBe(0);
    });
  }
});
