import type { DStream, NamedReduction } from "sluice";
import { streamsJob, streamsJobFactory } from "sluice/testing";

// Build functions of pair-operations.test.ts, exported so executors can import them.
const url = import.meta.url;

const ones = (s: DStream<string>) => s.map((x): [string, number] => [x, 1]);

export const groupByKey = streamsJob(url, "groupByKey", (s: DStream<string>) =>
  ones(s).groupByKey(),
);

export const reduceByKeyFunction = streamsJob(url, "reduceByKeyFunction", (s: DStream<string>) =>
  ones(s).reduceByKey((a, b) => a + b),
);

export const reduceByKeyNamed = streamsJobFactory(
  url,
  "reduceByKeyNamed",
  (op: NamedReduction) => (s: DStream<[string, number]>) => s.reduceByKey(op),
);

export const countByValue = streamsJob(url, "countByValue", (s: DStream<string>) =>
  s.countByValue(),
);

export const countByValueIn = streamsJobFactory(
  url,
  "countByValueIn",
  (numPartitions: number) => (s: DStream<string>) => s.countByValue(numPartitions),
);

export const wordSums = streamsJob(url, "wordSums", (s: DStream<string>) =>
  ones(s).reduceByKey("sum"),
);

export const wordSumsGlom = streamsJob(url, "wordSumsGlom", (s: DStream<[string, number]>) =>
  s.reduceByKey("sum").glom(),
);

export const combineTrace = streamsJob(url, "combineTrace", (s: DStream<[string, string]>) =>
  s.combineByKey(
    (v) => v,
    (c, v) => `${c}${v}`,
    (a, b) => `${a}|${b}`,
    1,
  ),
);

const reduced = (s: DStream<string>) => ones(s).reduceByKey((a, b) => a + b);

export const mapValues = streamsJob(url, "mapValues", (s: DStream<string>) =>
  reduced(s).mapValues((v) => v + 10),
);

export const flatMapValues = streamsJob(url, "flatMapValues", (s: DStream<string>) =>
  reduced(s).flatMapValues((v) => [v, v + 10]),
);

export const cogroup = streamsJob(url, "cogroup", (s1: DStream<string>, s2: DStream<string>) =>
  ones(s1).cogroup(s2.map((x): [string, string] => [x, "x"])),
);

const other = (s: DStream<string>) => s.map((x): [string, string] => [x, "x"]);

export const join = streamsJob(url, "join", (s1: DStream<string>, s2: DStream<string>) =>
  ones(s1).join(other(s2)),
);

export const joinNumbers = streamsJob(
  url,
  "joinNumbers",
  (s1: DStream<string>, s2: DStream<string>) =>
    ones(s1).join(s2.map((x): [string, number] => [x, 2])),
);

export const leftOuterJoin = streamsJob(
  url,
  "leftOuterJoin",
  (s1: DStream<string>, s2: DStream<string>) => ones(s1).leftOuterJoin(other(s2)),
);

export const rightOuterJoin = streamsJob(
  url,
  "rightOuterJoin",
  (s1: DStream<string>, s2: DStream<string>) => ones(s1).rightOuterJoin(other(s2)),
);

export const fullOuterJoin = streamsJob(
  url,
  "fullOuterJoin",
  (s1: DStream<string>, s2: DStream<string>) => ones(s1).fullOuterJoin(other(s2)),
);

export const groupAnyKeys = streamsJob(url, "groupAnyKeys", (s: DStream<[unknown, string]>) =>
  s.groupByKey(),
);
