import type { DStream } from "sluice";
import { streamsJob } from "sluice/testing";

// Build functions of fused-chains.test.ts, exported so executors can import them.
const url = import.meta.url;

function words(lines: DStream<string>): DStream<[string, number]> {
  return lines
    .flatMap((line) => line.split(" "))
    .filter((word) => word !== "")
    .map((word): [string, number] => [word, 1]);
}

export const wordSums = streamsJob(url, "wordSums", (lines: DStream<string>) =>
  words(lines).reduceByKey("sum"),
);

export const wordCounts = streamsJob(url, "wordCounts", (lines: DStream<string>) =>
  lines.flatMap((line) => line.split(" ")).countByValue(),
);

export const wordReduce = streamsJob(url, "wordReduce", (lines: DStream<string>) =>
  words(lines).reduceByKey((a, b) => a + b),
);

/** A chain with a whole-partition operator (glom) between two fused loops, to records. */
export const mixedChain = streamsJob(url, "mixedChain", (lines: DStream<string>) =>
  // biome-ignore lint/complexity/noFlatMapIdentity: a DStream has no flat(); this is the operator under test.
  lines
    .flatMap((line) => line.split(" "))
    .map((word): [string, number] => [word, word.length])
    .glom()
    .flatMap((partition) => partition)
    .mapValues((length) => length * 2)
    .flatMapValues((length) => [length, length + 1])
    .filter(([, length]) => length % 3 !== 0),
);

/** `mapValues` throws on the value 7, between a map and a filter. */
export const failingMiddle = streamsJob(url, "failingMiddle", (numbers: DStream<number>) =>
  numbers
    .map((n): [number, number] => [n % 3, n])
    .mapValues((n) => {
      if (n === 7) throw new Error("seven is refused");
      return n;
    })
    .filter(([, n]) => n >= 0),
);

/** The same failure in a chain that feeds reduceByKey with a function (fused into its combiners). */
export const failingIntoReduce = streamsJob(url, "failingIntoReduce", (numbers: DStream<number>) =>
  numbers
    .map((n): [number, number] => [n % 3, n])
    .mapValues((n) => {
      if (n === 7) throw new Error("seven is refused");
      return n;
    })
    .reduceByKey((a, b) => a + b),
);
