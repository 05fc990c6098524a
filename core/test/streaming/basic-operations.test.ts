import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { batchRecords, type DStream } from "sluice";
import { runBatches } from "sluice/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { range, sortedBatches } from "./helpers.js";
import * as jobs from "./jobs/basic.js";
import { MASTERS, onMaster } from "./masters.js";

// Expected values follow Spark's BasicOperationsSuite (batch interval 1 s, 2 input partitions).
// Every operation runs under each master with the same expected results.
const oneToTwelve = [range(1, 4), range(5, 8), range(9, 12)];

describe.each(MASTERS)("under %s", (master) => {
  const on = onMaster(master);

  describe("record-by-record operations", () => {
    it("map", async () => {
      const output = await runBatches({ inputs: [oneToTwelve], ...on() }, jobs.map);
      expect(output).toEqual(oneToTwelve.map((batch) => batch.map(String)));
    });

    it("flatMap", async () => {
      const output = await runBatches({ inputs: [oneToTwelve], ...on() }, jobs.flatMap);
      expect(output).toEqual(oneToTwelve.map((batch) => batch.flatMap((x) => [x, x * 2])));
    });

    it("filter", async () => {
      const output = await runBatches({ inputs: [oneToTwelve], ...on() }, jobs.filterEven);
      expect(output).toEqual([
        [2, 4],
        [6, 8],
        [10, 12],
      ]);
    });

    it("glom gives each of the 2 input partitions as one record", async () => {
      const output = await runBatches({ inputs: [oneToTwelve], ...on() }, jobs.glom);
      expect(output).toEqual([
        [
          [1, 2],
          [3, 4],
        ],
        [
          [5, 6],
          [7, 8],
        ],
        [
          [9, 10],
          [11, 12],
        ],
      ]);
    });

    it("glom follows numPartitions", async () => {
      const output = await runBatches(
        { inputs: [[range(1, 5)]], numPartitions: 3, ...on() },
        jobs.glom,
      );
      expect(output).toEqual([[[1], [2, 3], [4, 5]]]);
    });

    it("mapPartitions runs once per partition, with its index", async () => {
      const output = await runBatches({ inputs: [oneToTwelve], ...on() }, jobs.partitionSums);
      expect(output).toEqual([
        ["0:3", "1:7"],
        ["0:11", "1:15"],
        ["0:19", "1:23"],
      ]);
    });

    it("repartition to more and to fewer partitions keeps every record", async () => {
      const input = [range(1, 100), range(101, 200), range(201, 300)];
      for (const [from, to] of [
        [2, 5],
        [5, 2],
      ] as const) {
        const output = await runBatches(
          { inputs: [input], numPartitions: from, ...on() },
          jobs.repartitionTo(to),
        );
        expect(output.map((batch) => batch.length)).toEqual([to, to, to]);
        output.forEach((partitions, i) => {
          expect(partitions.flat().sort((a, b) => a - b)).toEqual(input[i]);
          // Round-robin: partition sizes differ by at most the number of input partitions.
          const sizes = partitions.map((p) => p.length);
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(from);
        });
      }
    });

    it("repartition rejects a bad partition count", async () => {
      await expect(
        runBatches({ inputs: [[[1]]], ...on() }, jobs.repartitionTo(0)),
      ).rejects.toMatchObject({
        code: "SLUICE_INVALID_ARGUMENT",
      });
    });
  });

  describe("union and transform", () => {
    it("union of a stream with a mapped copy of itself", async () => {
      const input = [range(1, 4), range(101, 104), range(201, 204)];
      const output = await runBatches({ inputs: [input], ...on() }, jobs.unionWithMapped);
      expect(output).toEqual([range(1, 8), range(101, 108), range(201, 208)]);
    });

    it("StreamingContext.union of three streams", async () => {
      const input = [range(1, 4), range(101, 104), range(201, 204)];
      const output = await runBatches({ inputs: [input], ...on() }, jobs.contextUnion);
      expect(output).toEqual([range(1, 12), range(101, 112), range(201, 212)]);
    });

    it("union fails when a parent has no batch, as in Spark", async () => {
      const input = [range(1, 4), range(101, 104), range(201, 204), null];
      await expect(
        runBatches({ inputs: [input], ...on() }, jobs.unionWithMapped),
      ).rejects.toMatchObject({ code: "SLUICE_MISSING_BATCH" });
    });

    it("union rejects streams with different slide durations", async () => {
      await expect(
        runBatches({ inputs: [[[1]]], ...on() }, jobs.unionOfSlides),
      ).rejects.toMatchObject({
        code: "SLUICE_INVALID_ARGUMENT",
        message: /different slide durations/,
      });
    });

    it("transform with records or partitions, and the batch time", async () => {
      const output = await runBatches({ inputs: [oneToTwelve], ...on() }, jobs.transformWithTime);
      expect(output).toEqual(
        oneToTwelve.map((batch, i) => batch.map((x) => `${(i + 1) * 1000}:${x}`)),
      );
      const reversed = await runBatches({ inputs: [oneToTwelve], ...on() }, jobs.transformReversed);
      expect(reversed[0]).toEqual([3, 4, 1, 2]);
    });

    it("transform rejects a result that is neither records nor partitions", async () => {
      await expect(
        runBatches({ inputs: [[[1]]], ...on() }, jobs.transformNull),
      ).rejects.toMatchObject({ code: "SLUICE_INVALID_ARGUMENT" });
    });

    it("transform fails when the parent has no batch, as in Spark", async () => {
      await expect(
        runBatches({ inputs: [[range(1, 4), range(5, 8), null]], ...on() }, jobs.transformRecords),
      ).rejects.toMatchObject({ code: "SLUICE_MISSING_BATCH", message: /3000 ms/ });
    });

    it("transformWith joins two streams batch by batch", async () => {
      const output = await runBatches(
        {
          inputs: [
            [["a", "b"], ["a", ""], [""], []],
            [["a", "b"], ["b", ""], [], [""]],
          ],
          ...on(),
        },
        jobs.transformWithJoin,
      );
      expect(output).toEqual([
        [
          ["a", [1, "x"]],
          ["b", [1, "x"]],
        ],
        [["", [1, "x"]]],
        [],
        [],
      ]);
    });
  });

  describe("whole-batch results", () => {
    it("count: an empty batch counts 0", async () => {
      const output = await runBatches(
        { inputs: [[[], range(1, 1), range(1, 2), range(1, 3), range(1, 4)]], ...on() },
        jobs.count,
      );
      expect(output).toEqual([[0], [1], [2], [3], [4]]);
    });

    it("count of a missing batch is no batch", async () => {
      const output = await runBatches({ inputs: [[[1], null, []]], ...on() }, jobs.count);
      expect(output).toEqual([[1], [0]]);
    });

    it("countByValue", async () => {
      const output = await runBatches(
        { inputs: [[[1], [1, 1, 1], [1, 2], [1, 1, 2, 2]]], ...on() },
        jobs.countByValue,
      );
      expect(sortedBatches(output)).toEqual([
        [[1, 1]],
        [[1, 3]],
        [
          [1, 1],
          [2, 1],
        ],
        [
          [1, 2],
          [2, 2],
        ],
      ]);
    });

    it("reduce, and nothing for an empty batch", async () => {
      const output = await runBatches({ inputs: [[...oneToTwelve, []]], ...on() }, jobs.sum);
      expect(output).toEqual([[10], [26], [42], []]);
    });

    it("reduce combines each partition, then the partitions in order", async () => {
      const output = await runBatches(
        { inputs: [[["a", "b", "c", "d"]]], ...on() },
        jobs.bracketed,
      );
      expect(output).toEqual([["((ab)(cd))"]]);
    });
  });

  describe("missing batches (null input)", () => {
    it("propagate through per-record operations: no output for that time", async () => {
      const output = await runBatches(
        { inputs: [[[1, 2], null, [3]]], ...on() },
        jobs.timesTenPositive,
      );
      expect(output).toEqual([[10, 20], [30]]);
    });

    it("differ from an empty batch, which is output as []", async () => {
      const output = await runBatches({ inputs: [[[1], [], null]], ...on() }, jobs.identity);
      expect(output).toEqual([[1], []]);
    });

    it("batches after the end of an input are empty", async () => {
      const output = await runBatches({ inputs: [[[1]]], numBatches: 3, ...on() }, jobs.count);
      expect(output).toEqual([[1], [0], [0]]);
    });
  });
});

// Output operations run on the driver whatever the master, so they run once, on the main thread.
describe("output operations", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("foreachBatch sees the batch and its time, in order, awaiting each call", async () => {
    const seen: string[] = [];
    await runBatches({ inputs: [[[1, 2], [3]]] }, (s) => {
      s.foreachBatch(async (batch, time) => {
        await Promise.resolve();
        seen.push(`${time}:${batchRecords(batch).join(",")}:${batch.partitions.length}`);
      });
      return s;
    });
    expect(seen).toEqual(["1000:1,2:2", "2000:3:2"]);
  });

  it("a failing foreachBatch rejects the run with SLUICE_JOB_FAILED and the cause", async () => {
    const boom = new Error("boom");
    const run = runBatches({ inputs: [[[1]]] }, (s) => {
      s.foreachBatch(() => {
        throw boom;
      });
      return s;
    });
    await expect(run).rejects.toMatchObject({ code: "SLUICE_JOB_FAILED", cause: boom });
  });

  it("print writes Spark's header, the first n records and '...'", async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    await runBatches({ inputs: [[["a", "b", "c"], [["k", 1]]]] }, (s: DStream<unknown>) => {
      s.print(2);
      return s;
    });
    vi.restoreAllMocks();
    expect(written.join("")).toBe(
      [
        "-------------------------------------------",
        "Time: 1000 ms",
        "-------------------------------------------",
        "a",
        "b",
        "...",
        "",
        "-------------------------------------------",
        "Time: 2000 ms",
        "-------------------------------------------",
        '["k",1]',
        "",
        "",
      ].join("\n"),
    );
  });

  it("saveAsTextFiles writes prefix-time[.suffix]/part-NNNNN and _SUCCESS", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-save-"));
    try {
      await runBatches({ inputs: [[[1, 2, 3], []]] }, (s) => {
        s.saveAsTextFiles(join(dir, "out"), "txt");
        s.map((x) => ({ x })).saveAsTextFiles(join(dir, "json"));
        return s;
      });
      expect((await readdir(dir)).sort()).toEqual([
        "json-1000",
        "json-2000",
        "out-1000.txt",
        "out-2000.txt",
      ]);
      expect((await readdir(join(dir, "out-1000.txt"))).sort()).toEqual([
        "_SUCCESS",
        "part-00000",
        "part-00001",
      ]);
      expect(await readFile(join(dir, "out-1000.txt", "part-00000"), "utf8")).toBe("1\n");
      expect(await readFile(join(dir, "out-1000.txt", "part-00001"), "utf8")).toBe("2\n3\n");
      expect(await readFile(join(dir, "json-1000", "part-00001"), "utf8")).toBe(
        '{"x":2}\n{"x":3}\n',
      );
      expect(await readFile(join(dir, "out-2000.txt", "part-00000"), "utf8")).toBe("");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
