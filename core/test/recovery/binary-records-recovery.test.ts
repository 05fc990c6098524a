// binaryRecordsStream recovers as the file source does: a job that dies with a file half used
// resumes after the last checkpointed record, so no record is lost or delivered twice.
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { batchRecords, type StreamingContext } from "sluice";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { folderPerTest, ManualClock, processed, startJob } from "./job-harness.js";

const folder = folderPerTest("sluice-binary-recovery-");
const { running } = folder;
let input: string;

beforeEach(async () => {
  input = await mkdtemp(join(tmpdir(), "sluice-binary-recovery-in-"));
});

afterEach(async () => {
  await rm(input, { recursive: true, force: true });
});

const RECORD_LENGTH = 6;

/** `count` records, record n being `tag`, n and then n repeated, written and moved in. */
async function moveIn(name: string, tag: number, count: number): Promise<string[]> {
  const bytes = new Uint8Array(count * RECORD_LENGTH);
  for (let n = 0; n < count; n++) {
    bytes.fill(n, n * RECORD_LENGTH, (n + 1) * RECORD_LENGTH);
    bytes[n * RECORD_LENGTH] = tag;
  }
  const hidden = join(input, `.${name}.tmp`);
  await writeFile(hidden, bytes);
  await rename(hidden, join(input, name));
  return Array.from({ length: count }, (_, n) =>
    hex(bytes.subarray(n * RECORD_LENGTH, (n + 1) * RECORD_LENGTH)),
  );
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("binaryRecordsStream across a crash", () => {
  it("resumes mid-file after the checkpointed records: none lost, none twice", async () => {
    const a = await moveIn("a.bin", 1, 10);
    // Per batch time, as an idempotent sink keeps them: a replayed batch overwrites its own.
    const written = new Map<number, string[]>();
    const all = () => [...written].sort(([x], [y]) => x - y).flatMap(([, records]) => records);
    const build = (ctx: StreamingContext) => {
      ctx
        .binaryRecordsStream(input, RECORD_LENGTH, { newFilesOnly: false, id: "records" })
        .foreachBatch((batch, time) => {
          written.set(time, batchRecords(batch).map(hex));
        });
    };
    // Two records a batch: a.bin takes five batches, so the job dies with it half read.
    const limited = { backpressure: { enabled: false, maxRate: 2 } };

    const clock1 = new ManualClock(0);
    const first = await startJob(folder.path, clock1, build, {}, 1000, limited);
    running.push(first);
    await batchesUntil(first, clock1, () => all().length >= 4);
    expect(all().length).toBeLessThan(a.length);
    // The process dies: its clock stops, nothing is stopped or flushed.

    const b = await moveIn("b.bin", 2, 3);
    const clock2 = new ManualClock(clock1.now());
    const second = await startJob(folder.path, clock2, build, {}, 1000, limited);
    running.push(second);
    expect(second.recoveryReport).toMatchObject({ resumedInputs: ["records"] });
    await batchesUntil(second, clock2, () => all().length >= a.length + b.length);
    // A few more batches: anything read twice would show now.
    for (let extra = 0; extra < 3; extra++) await nextBatch(second, clock2);
    expect(all()).toEqual([...a, ...b]);
    for (const records of written.values()) expect(records.length).toBeLessThanOrEqual(2);
  });
});

async function nextBatch(ctx: StreamingContext, clock: ManualClock): Promise<void> {
  clock.advance(1000);
  await processed(ctx, clock.now());
}

/** Advances one interval at a time until `done()` holds (the source reads on its own). */
async function batchesUntil(
  ctx: StreamingContext,
  clock: ManualClock,
  done: () => boolean,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("the records did not arrive within 20 s");
    await nextBatch(ctx, clock);
    await new Promise((resolve) => setImmediate(resolve)); // the source's file callbacks run
  }
}
