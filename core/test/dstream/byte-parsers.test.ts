import fc from "fast-check";
import type { DStream, SourceRecord } from "sluice";
import { ExecutorPool, JsKernels, NativeKernels } from "sluice/advanced";
import { runBatches } from "sluice/testing";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import { recordRuns } from "../../src/dstream/byte-parsed-dstream.js";
import { ColumnarBatch } from "../../src/dstream/columnar-batch.js";
import { concatKeyColumns, keyColumnFromStrings } from "../../src/kernels/key-column.js";
import { requireNativeBinding } from "../kernels/native-binding.js";
import { ENGINES, exact } from "./engines.js";
import * as jobs from "./jobs/parsers.js";

// The byte parsers as DStream operations: the same records as the obvious lambda over decoded
// text, and a word count that stays columnar from the bytes to the counts.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function record(value: string | Uint8Array, offset = 0): SourceRecord {
  return {
    value: typeof value === "string" ? encoder.encode(value) : value,
    headers: {},
    timestampMs: 0,
    partition: "p",
    offset: String(offset),
  };
}

/** Text with the awkward parts well represented: separators, CR/LF, quotes, non-ASCII. */
const text = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "\v",
        "\f",
        ",",
        '"',
        "é",
        "日本",
        "🙂",
        "\u00a0",
      ),
      fc.constantFrom("a", "b", "word", "x1", "Ünï"),
      fc.string({ unit: "grapheme", maxLength: 4 }),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(""));

const batchesOf = <T>(item: fc.Arbitrary<T>) =>
  fc.array(fc.array(item, { maxLength: 8 }), { minLength: 1, maxLength: 3 });

function linesOf(value: string): string[] {
  if (value === "") return [];
  const lines = value.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
}

function wordsOf(value: string): string[] {
  return value.split(/[ \t\n\v\f\r]+/).filter((word) => word !== "");
}

function csvRecord(fields: readonly string[]): string {
  return fields
    .map((field) => (/[",\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field))
    .join(",");
}

const csvField = fc.oneof(
  fc.constantFrom("", "a", "b c", "x,y", 'say "hi"', '"', "é", "1.5"),
  fc.string({ unit: "grapheme", maxLength: 5 }).filter((field) => !/[\r\n]/.test(field)),
);

const jsonName = fc.constantFrom("t", "user", "n", "é");
const jsonValue = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.string({ unit: "grapheme", maxLength: 6 }),
  fc.constantFrom(true, null, "\\", '"', "\u2028", "🙂"),
  fc.constant({ t: 1 }),
);
const jsonObject = fc.dictionary(jsonName, jsonValue, { maxKeys: 4 });

describe.each(ENGINES)("byte parsers as stream operations (%s kernels)", (_name, make) => {
  const kernels = make();
  const run = <T>(inputs: SourceRecord[][], build: (s: DStream<SourceRecord>) => DStream<T>) =>
    runBatches({ inputs: [inputs], kernels }, build);

  it("lines() and words() give the lines and words of the decoded text", async () => {
    await fc.assert(
      fc.asyncProperty(batchesOf(text), async (batches) => {
        const inputs = batches.map((batch) => batch.map((value) => record(value)));
        const lines = await run(inputs, (s) => s.lines());
        const words = await run(inputs, (s) => s.words());
        expect(lines).toEqual(batches.map((batch) => batch.flatMap(linesOf)));
        expect(words).toEqual(batches.map((batch) => batch.flatMap(wordsOf)));
      }),
      { numRuns: 40 },
    );
  });

  it("read records sliced back to back from one buffer as records each copied alone", async () => {
    await fc.assert(
      fc.asyncProperty(batchesOf(text), async (batches) => {
        // Each batch's values slices of one buffer, in order (as a source's one read), and the
        // same values each in its own buffer.
        const sliced = batches.map((batch) => {
          const bytes = batch.map((value) => encoder.encode(value));
          const read = Buffer.concat(bytes);
          let at = 0;
          return bytes.map((value) => {
            at += value.length;
            return read.subarray(at - value.length, at);
          });
        });
        const copied = sliced.map((batch) => batch.map((value) => value.slice()));
        const values = (inputs: Uint8Array[][]) =>
          runBatches({ inputs: [inputs], kernels }, (s: DStream<Uint8Array>) =>
            s.lines().countByValue(),
          );
        expect(await values(sliced)).toEqual(await values(copied));
        expect(await values(sliced)).toEqual(
          await runBatches({ inputs: [batches], kernels }, (s: DStream<string>) =>
            s.flatMap(linesOf).countByValue(),
          ),
        );
      }),
      { numRuns: 40 },
    );
  });

  it("csvColumn(i) gives field i of every record that has it", async () => {
    await fc.assert(
      fc.asyncProperty(
        batchesOf(fc.array(csvField, { minLength: 1, maxLength: 4 })),
        fc.integer({ min: 0, max: 3 }),
        async (batches, index) => {
          const inputs = batches.map((batch) => batch.map((fields) => record(csvRecord(fields))));
          const column = await run(inputs, (s) => s.csvColumn(index));
          expect(column).toEqual(
            batches.map((batch) =>
              batch.flatMap((fields) => (index < fields.length ? [fields[index]] : [])),
            ),
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it("jsonNumberField and jsonStringField give the member of every record that has one", async () => {
    await fc.assert(
      fc.asyncProperty(batchesOf(jsonObject), jsonName, async (batches, name) => {
        const inputs = batches.map((batch) => batch.map((o) => record(JSON.stringify(o))));
        const numbers = await run(inputs, (s) => s.jsonNumberField(name));
        const strings = await run(inputs, (s) => s.jsonStringField(name));
        // The member as the record's text has it: JSON.stringify writes -0 as 0.
        const member = (o: Record<string, unknown>) =>
          (JSON.parse(JSON.stringify(o)) as Record<string, unknown>)[name];
        expect(numbers.map((b) => b.map(exact))).toEqual(
          batches.map((batch) =>
            batch
              .map(member)
              .filter((v) => typeof v === "number")
              .map(exact),
          ),
        );
        expect(strings).toEqual(
          batches.map((batch) => batch.map(member).filter((v) => typeof v === "string")),
        );
      }),
      { numRuns: 40 },
    );
  });

  it("words().countByValue() counts as the lambda word count does, without decoding a word", async () => {
    await fc.assert(
      fc.asyncProperty(batchesOf(text), async (batches) => {
        const inputs = batches.map((batch) => batch.map((value) => record(value)));
        const seen: { parsed: boolean[]; counted: boolean[] } = { parsed: [], counted: [] };
        const columnar = await runBatches(
          { kernels, inputs: [inputs] },
          (s: DStream<SourceRecord>) => {
            const words = s.words();
            const counts = words.countByValue();
            // Runs before runBatches' own output: the parser's batch and the counts are still
            // columns when the count is computed.
            counts.foreachBatch(async (batch, time) => {
              const parsed = await words.getOrCompute(time);
              seen.parsed.push((parsed as ColumnarBatch<string>).isMaterialised);
              seen.counted.push(batch instanceof ColumnarBatch && !batch.isMaterialised);
            });
            return counts;
          },
        );
        const lambda = await runBatches({ inputs: [inputs] }, (s: DStream<SourceRecord>) =>
          s
            .flatMap((r) => wordsOf(decoder.decode(r.value)))
            .map((word) => [word, 1])
            .reduceByKey((a, b) => a + b),
        );
        expect(columnar).toEqual(lambda);
        expect(seen.parsed.every((materialised) => !materialised)).toBe(true);
        expect(seen.counted.every((columns) => columns)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it("groups words by their text when the bytes are not valid UTF-8", async () => {
    // 0xff and 0xfe are different bytes but both decode to U+FFFD: one word, counted twice.
    const inputs = [[record(Uint8Array.of(0xff, 0x20, 0xfe, 0x20, 0x61))]];
    const counts = await run(inputs, (s) => s.words().countByValue(1));
    expect(counts).toEqual([
      [
        ["\uFFFD", 2],
        ["a", 1],
      ],
    ]);
  });

  it("parses the columns of another parser: lines().csvColumn(1).countByValue()", async () => {
    const inputs = [[record("a,x\nb,y\r\nc,x\n"), record("d\ne,y")], []];
    const counts = await run(inputs, (s) => s.lines().csvColumn(1).countByValue(1));
    expect(counts).toEqual([
      [
        ["x", 2],
        ["y", 2],
      ],
      [],
    ]);
  });

  it("reads bytes and strings too, and rejects other records by position", async () => {
    const words = await runBatches(
      { kernels, inputs: [[[encoder.encode("a b"), "c  d"]]] },
      (s: DStream<Uint8Array | string>) => s.words(),
    );
    expect(words).toEqual([["a", "b", "c", "d"]]);
    await expect(
      runBatches({ kernels, inputs: [[[{ text: "a" }]]] }, (s: DStream<{ text: string }>) =>
        (s as unknown as DStream<string>).words(),
      ),
    ).rejects.toMatchObject({ code: "SLUICE_INVALID_RECORD", message: /words: record 0/ });
  });
});

describe("byte parser arguments", () => {
  it("are checked when the operation is added", async () => {
    await expect(
      runBatches({ inputs: [[["a"]]] }, (s: DStream<string>) => s.csvColumn(-1)),
    ).rejects.toMatchObject({ code: "SLUICE_INVALID_ARGUMENT", message: /csvColumn: `index`/ });
    await expect(
      runBatches({ inputs: [[["a"]]] }, (s: DStream<string>) => s.csvColumn(0, { delimiter: '"' })),
    ).rejects.toMatchObject({ code: "SLUICE_INVALID_ARGUMENT", message: /csvColumn: `delimiter`/ });
  });
});

describe("byte parsers under local[2]", () => {
  const pool = new ExecutorPool({ threads: 2 });
  afterAll(async () => {
    await pool.close();
  });
  const inputs = [
    [record("a b a", 1), record("c\nb", 2), record("é é", 3)],
    [],
    [record("x,1\ny,2\nz,1", 4)],
  ];

  it("count words and CSV fields on the driver, as on the main thread, with no task", async () => {
    for (const job of [jobs.wordCount, jobs.csvCounts]) {
      const before = pool.completedTasks;
      const local = await runBatches({ inputs: [inputs] }, job);
      const executors = await runBatches(
        { inputs: [inputs], master: "local[2]", executorPool: pool },
        job,
      );
      expect(executors).toEqual(local);
      expect(local.flat().length).toBeGreaterThan(0);
      // Columnar stages run on the native module's threads, never as executor tasks.
      expect(pool.completedTasks).toBe(before);
    }
  });

  it("count strings a piece at a time, at local[1] and local[2], as the lambda counts them", async () => {
    // 2 partitions of 70 000 lines: two pieces each (65 536 rows, then the rest), a non-ASCII
    // line in the second piece of the second partition.
    const lines = Array.from({ length: 140_000 }, (_, i) =>
      i === 136_000 ? "é w1 \u00a0 日本" : `w${i % 13} x${i % 1000} w${i % 5}`,
    );
    const inputs: [string[][]] = [[lines, lines.slice(0, 9000)]];
    const reference = await runBatches({ inputs, numPartitions: 2 }, jobs.stringWordCountLambda);
    for (const master of ["local[1]", "local[2]"]) {
      const counted = await runBatches(
        { inputs, numPartitions: 2, master, executorPool: pool },
        jobs.stringWordCount,
      );
      expect(counted).toEqual(reference);
    }
    expect(reference[0]?.reduce((sum, [, n]) => sum + n, 0)).toBe(3 * 140_000 + 1);
  });

  it("run a lambda after a parser as tasks, with the same results", async () => {
    const before = pool.completedTasks;
    const local = await runBatches({ inputs: [inputs] }, jobs.upperWordCount);
    const executors = await runBatches(
      { inputs: [inputs], master: "local[2]", executorPool: pool },
      jobs.upperWordCount,
    );
    expect(executors).toEqual(local);
    expect(local.flat()).toContainEqual(["É", 2]);
    expect(pool.completedTasks).toBeGreaterThan(before);
  });

  it("run a lambda after a columnar count as one task per count partition, the count on the driver", async () => {
    const local = await runBatches({ inputs: [inputs] }, jobs.upperCounts);
    const before = pool.completedTasks;
    const executors = await runBatches(
      { inputs: [inputs], master: "local[2]", executorPool: pool },
      jobs.upperCounts,
    );
    expect(executors).toEqual(local);
    expect(local.flat()).toContainEqual(["É", 2]);
    // The count's 2 output partitions each feed one task, every batch; a count run as a
    // shuffle on the executors would add a map task per input partition.
    expect(pool.completedTasks - before).toBe(2 * local.length);
  });
});

describe("countByValue after a text parser", () => {
  it("counts each partition from its bytes in one kernel call, as the twin counts the parsed rows", async () => {
    const binding = requireNativeBinding();
    const calls = new Map<string, number>();
    const counting = new Proxy(binding, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof property !== "string" || typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls.set(property, (calls.get(property) ?? 0) + 1);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const kernels = new NativeKernels(counting);
    const text = (n: number) =>
      Array.from({ length: n }, (_, i) => `w${i % 7} é${i % 3}`).join(" ");
    // One batch in three partitions, counted into two.
    const inputs: [SourceRecord[][]] = [
      [[record(text(40), 1), record(text(3), 2), record("", 3), record(text(9), 4)]],
    ];
    const job = (s: DStream<SourceRecord>) => s.words().countByValue(2);
    const native = await runBatches({ kernels, inputs, numPartitions: 3 }, job);
    // Small partitions on the main thread, large ones on the libuv pool: one call each.
    expect((calls.get("countParsed") ?? 0) + (calls.get("countParsedAsync") ?? 0)).toBe(3);
    expect(calls.get("splitWords") ?? 0).toBe(0);
    expect(calls.get("splitWordsAsync") ?? 0).toBe(0);
    const twin = await runBatches({ kernels: new JsKernels(), inputs, numPartitions: 3 }, job);
    expect(native).toEqual(twin);
    // Decoded first: the same as the lambda word count, partition for partition.
    const lambda = await runBatches({ kernels: new JsKernels(), inputs, numPartitions: 3 }, (s) =>
      s
        .map((r) => new TextDecoder().decode(r.value))
        .flatMap((line) => line.split(" ").filter((word) => word !== ""))
        .countByValue(2),
    );
    expect(native).toEqual(lambda);
    expect(native[0]?.reduce((sum, [, n]) => sum + n, 0)).toBe(2 * (40 + 3 + 9));
  });

  it("counts bytes that are not valid UTF-8 as the strings they decode to", async () => {
    const invalid = Uint8Array.of(0x61, 0xff, 0x20, 0x61, 0xfe, 0x20, 0x62);
    const inputs: [SourceRecord[][]] = [[[record(invalid, 1)]]];
    const counted = await runBatches({ inputs }, (s: DStream<SourceRecord>) =>
      s.words().countByValue(),
    );
    // Both invalid words decode to "a\uFFFD": one key, as a string map would count them.
    expect(counted).toEqual([
      [
        ["a\uFFFD", 2],
        ["b", 1],
      ],
    ]);
  });
});

describe("recordRuns", () => {
  it("gathers byte batches into runs of a mebibyte or more, the rows in order", () => {
    const batch = (rows: number, tag: number) =>
      keyColumnFromStrings(Array.from({ length: rows }, (_, i) => `${tag}-${i}`.padEnd(100, "x")));
    const batches = [5000, 3000, 12_000, 10, 4000, 1].map(batch);
    const runs = recordRuns(batches).map((run) => (typeof run === "function" ? run() : run));
    const joined = concatKeyColumns(runs);
    const expected = concatKeyColumns(batches);
    expect(Array.from(joined.offsets)).toEqual(Array.from(expected.offsets));
    expect(Buffer.from(joined.keys).equals(Buffer.from(expected.keys))).toBe(true);
    // 500 kB + 300 kB + 1.2 MB make the first run; the last 400 kB the second.
    expect(runs.map((run) => run.offsets.length - 1)).toEqual([20_000, 4011]);
    // A run of one batch is that batch's column, read in place.
    expect(recordRuns(batches.slice(2, 3))).toEqual([batches[2]]);
    expect(recordRuns(batches.slice(2, 3))[0]).toBe(batches[2]);
    expect(recordRuns([]).length).toBe(1);
  });
});

describe("types", () => {
  it("parsers take byte records or strings and give strings or numbers", () => {
    const typesOnly = (records: DStream<SourceRecord>, numbers: DStream<number>) => {
      expectTypeOf(records.words()).toEqualTypeOf<DStream<string>>();
      expectTypeOf(records.lines().csvColumn(1)).toEqualTypeOf<DStream<string>>();
      expectTypeOf(records.jsonNumberField("t")).toEqualTypeOf<DStream<number>>();
      expectTypeOf(records.words().countByValue()).toEqualTypeOf<DStream<[string, number]>>();
      // @ts-expect-error numbers are not bytes or text
      numbers.words();
    };
    expect(typeof typesOnly).toBe("function");
  });
});
