import type { DStream, SourceRecord } from "sluice";
import { JsKernels, type Kernels } from "sluice/advanced";
import { runBatches } from "sluice/testing";
import { keyIds, Rng } from "./data.js";
import { type AsyncContender, runAsyncContenders, type Summary } from "./harness.js";

/** The end-to-end word count: one batch of byte records through a streaming job. */
export interface WordCountCell {
  readonly records: number;
  readonly words: number;
  readonly distinct: number;
  readonly results: Summary[];
  readonly checksumsAgree: boolean;
}

const decoder = new TextDecoder();

/**
 * 100-byte lines of Zipf(1.2) words from a `vocabulary`-word dictionary, as source records
 * (bytes, as a connector hands them over).
 */
function lines(records: number, vocabulary: number): { batch: SourceRecord[]; words: number } {
  const rng = new Rng(7);
  const dictionary = Array.from({ length: vocabulary }, () => {
    let word = "";
    const length = 3 + (rng.next() % 8);
    for (let i = 0; i < length; i++) word += String.fromCharCode(97 + (rng.next() % 26));
    return word;
  });
  const ids = keyIds(records * 20, vocabulary, "zipf1.2", 11);
  const encoder = new TextEncoder();
  const batch: SourceRecord[] = [];
  let next = 0;
  let words = 0;
  for (let r = 0; r < records; r++) {
    let line = dictionary[ids[next++] as number] as string;
    words++;
    while (line.length < 100) {
      line += ` ${dictionary[ids[next++] as number] as string}`;
      words++;
    }
    batch.push({
      value: encoder.encode(line),
      headers: {},
      timestampMs: 0,
      partition: "bench",
      offset: String(r + 1),
    });
  }
  return { batch, words };
}

/** Runs `build` over one batch on a manual clock; the checksum covers every count. */
async function runJob(
  batch: SourceRecord[],
  kernels: Kernels | undefined,
  build: (records: DStream<SourceRecord>) => DStream<[string, number]>,
): Promise<{ ns: number; checksum: string }> {
  const started = process.hrtime.bigint();
  const [counts = []] = await runBatches(
    { inputs: [[batch]], ...(kernels === undefined ? {} : { kernels }) },
    build,
  );
  const ns = Number(process.hrtime.bigint() - started);
  let total = 0;
  let fold = 0x811c9dc5;
  for (const [word, count] of counts) {
    total += count;
    fold = Math.imul(fold ^ (word.length * 31 + count), 16777619) >>> 0;
  }
  return { ns, checksum: `${counts.length} groups, ${total} words, fold ${fold.toString(16)}` };
}

/**
 * Word count over byte records, end to end through the streaming core: the columnar path
 * (`words().countByValue()`: the parser's column straight into the count kernel) on both
 * engines, against the lambda word count (decode, split, pairs, `reduceByKey` with a function)
 * and the same with `reduceByKey("sum")` (strings per word, then the kernels).
 */
export async function benchWordCount(options: {
  readonly native: Kernels;
  readonly records: number;
  readonly rounds: number;
  readonly log: (line: string) => void;
}): Promise<WordCountCell> {
  const vocabulary = 100_000;
  const { batch, words } = lines(options.records, vocabulary);
  const split = (records: DStream<SourceRecord>) =>
    records.flatMap((record) => decoder.decode(record.value).split(" ")).map((w) => [w, 1]);
  const contenders: AsyncContender[] = [
    {
      name: "columnar, native",
      run: () => runJob(batch, options.native, (r) => r.words().countByValue()),
    },
    {
      name: "columnar, ts twin",
      run: () => runJob(batch, new JsKernels(), (r) => r.words().countByValue()),
    },
    {
      name: "strings, reduceByKey(sum), native",
      run: () => runJob(batch, options.native, (r) => split(r).reduceByKey("sum")),
    },
    {
      name: "lambda",
      run: () => runJob(batch, undefined, (r) => split(r).reduceByKey((a, b) => a + b)),
    },
  ];
  options.log(`word count: ${options.records} records, ${words} words...`);
  const results = await runAsyncContenders(contenders, options.rounds, (ns) => ns / words);
  const distinct = Number(/^(\d+) groups/.exec(results[0]?.checksum ?? "")?.[1] ?? 0);
  return {
    records: options.records,
    words,
    distinct,
    results,
    checksumsAgree: results.every((r) => r.checksum === results[0]?.checksum),
  };
}
