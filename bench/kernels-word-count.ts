/**
 * `node --import tsx bench/kernels-word-count.ts [--lines=100000] [--rounds=7] [--cpu]`: the word count
 * of one batch inside the kernels, side by side in one process — ns per word for the parser's
 * column then `reduceByKeyUtf8(…, "count")` against the fused `countParsed`, both engines; the
 * same batch in two partitions, counted one after the other against two concurrent
 * `countParsedAsync` calls (the libuv pool, one per core); and the JS lines turned into a key
 * column one by one (`TextEncoder` + `keyColumnFromBuffers`, what the parsers did with string
 * records) against `keyColumnFromStrings` (joined and encoded once). Prints the load average.
 * `--cpu` times the synchronous contenders by CPU time; the two-partition runs are always
 * timed by the wall clock, which is what running them concurrently saves.
 */
import { loadavg } from "node:os";
import {
  JsKernels,
  type KeyColumn,
  keyColumnFromBuffers,
  keyColumnFromStrings,
  NativeKernels,
  type Utf8Groups,
} from "sluice/advanced";
import { requireNativeBinding } from "../core/test/kernels/native-binding.js";
import { keyIds, Rng } from "./data.js";
import { type AsyncContender, runAsyncContenders, type Summary, spread } from "./harness.js";

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, "").split("=");
    return [key as string, value ?? "true"];
  }),
);
const lineCount = Number(args.get("lines") ?? 100_000);
const rounds = Number(args.get("rounds") ?? 7);
const cpuTime = args.has("cpu");

/** 100-byte lines of Zipf(1.2) words from a 100k-word vocabulary (as bench/word-count.ts). */
function makeLines(count: number): { lines: string[]; words: number } {
  const rng = new Rng(7);
  const vocabulary = Array.from({ length: 100_000 }, () => {
    let word = "";
    const length = 3 + (rng.next() % 8);
    for (let i = 0; i < length; i++) word += String.fromCharCode(97 + (rng.next() % 26));
    return word;
  });
  const ids = keyIds(count * 20, vocabulary.length, "zipf1.2", 11);
  const lines: string[] = [];
  let next = 0;
  let words = 0;
  for (let r = 0; r < count; r++) {
    let line = vocabulary[ids[next++] as number] as string;
    words++;
    while (line.length < 100) {
      line += ` ${vocabulary[ids[next++] as number] as string}`;
      words++;
    }
    lines.push(line);
  }
  return { lines, words };
}

const NO_VALUES = new Float64Array(0);

function checksum(parts: readonly Utf8Groups[]): string {
  let groups = 0;
  let total = 0;
  for (const part of parts) {
    groups += part.values.length;
    for (const value of part.values) total += value;
  }
  return `${groups} groups, ${total} words`;
}

/**
 * A synchronous piece of work timed as an async contender: wall time, or with `--cpu` the
 * process's CPU time (user + system), which a machine shared with other work disturbs less.
 */
function timed(name: string, work: () => string): AsyncContender {
  return {
    name,
    run: async () => {
      const start = process.hrtime.bigint();
      const cpu = process.cpuUsage();
      const checksumText = work();
      const spent = process.cpuUsage(cpu);
      const ns = cpuTime
        ? (spent.user + spent.system) * 1000
        : Number(process.hrtime.bigint() - start);
      return { ns, checksum: checksumText };
    },
  };
}

function asyncTimed(name: string, work: () => Promise<string>): AsyncContender {
  return {
    name,
    run: async () => {
      const start = process.hrtime.bigint();
      const checksumText = await work();
      return { ns: Number(process.hrtime.bigint() - start), checksum: checksumText };
    },
  };
}

function report(title: string, unit: string, results: readonly Summary[]): void {
  console.log(`\n${title} (${unit}: median (min–max))`);
  for (const result of results) {
    console.log(`  ${result.name.padEnd(52)} ${spread(result).padEnd(22)} ${result.checksum}`);
  }
}

const native = new NativeKernels(requireNativeBinding(), { jsBelowRows: 0 });
const js = new JsKernels();
const { lines, words } = makeLines(lineCount);
const encoder = new TextEncoder();
const column = keyColumnFromBuffers(lines.map((line) => encoder.encode(line)));
const half = lines.length >> 1;
const partitions: KeyColumn[] = [lines.slice(0, half), lines.slice(half)].map((part) =>
  keyColumnFromBuffers(part.map((line) => encoder.encode(line))),
);
console.log(
  `${lineCount} lines, ${words} words; load average before ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);

const words1 = { kind: "words" } as const;
report(
  "word count, one partition, synchronous",
  cpuTime ? "CPU ns/word" : "ns/word",
  await runAsyncContenders(
    [
      timed("native splitWords + reduceByKeyUtf8 count", () =>
        checksum([native.reduceByKeyUtf8(native.splitWords(column), NO_VALUES, "count")]),
      ),
      timed("native countParsed (fused)", () => checksum(native.countParsed(column, words1))),
      timed("ts twin splitWords + reduceByKeyUtf8 count", () =>
        checksum([js.reduceByKeyUtf8(js.splitWords(column), NO_VALUES, "count")]),
      ),
      timed("ts twin countParsed (fused)", () => checksum(js.countParsed(column, words1))),
    ],
    rounds,
    (ns) => ns / words,
  ),
);

report(
  "word count, two partitions",
  "ms per batch",
  await runAsyncContenders(
    [
      asyncTimed("native splitWords + reduce, partitions in turn", async () =>
        checksum(
          partitions.map((p) => native.reduceByKeyUtf8(native.splitWords(p), NO_VALUES, "count")),
        ),
      ),
      asyncTimed("native countParsedAsync, one after the other", async () => {
        const parts: Utf8Groups[] = [];
        for (const p of partitions) parts.push(...(await native.countParsedAsync(p, words1)));
        return checksum(parts);
      }),
      asyncTimed("native countParsedAsync, both at once", async () =>
        checksum(
          (await Promise.all(partitions.map((p) => native.countParsedAsync(p, words1)))).flat(),
        ),
      ),
    ],
    rounds,
    (ns) => ns / 1e6,
  ),
);

report(
  "JS lines to a key column",
  cpuTime ? "CPU ns/line" : "ns/line",
  await runAsyncContenders(
    [
      timed("TextEncoder per line + keyColumnFromBuffers", () => {
        const built = keyColumnFromBuffers(lines.map((line) => encoder.encode(line)));
        return `${built.keys.length} bytes`;
      }),
      timed("keyColumnFromStrings (joined, encoded once)", () => {
        const built = keyColumnFromStrings(lines);
        return `${built.keys.length} bytes`;
      }),
    ],
    rounds,
    (ns) => ns / lines.length,
  ),
);
console.log(
  `\nload average after ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
