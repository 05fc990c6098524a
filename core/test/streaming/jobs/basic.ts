import { batchRecords, type DStream } from "sluice";
import { streamsJob, streamsJobFactory } from "sluice/testing";

// Build functions of basic-operations.test.ts, exported so executors can import them.
const url = import.meta.url;

export const map = streamsJob(url, "map", (s: DStream<number>) => s.map((x) => String(x)));

export const flatMap = streamsJob(url, "flatMap", (s: DStream<number>) =>
  s.flatMap((x) => [x, x * 2]),
);

export const filterEven = streamsJob(url, "filterEven", (s: DStream<number>) =>
  s.filter((x) => x % 2 === 0),
);

export const glom = streamsJob(url, "glom", (s: DStream<number>) => s.glom());

export const partitionSums = streamsJob(url, "partitionSums", (s: DStream<number>) =>
  s.mapPartitions((records, index) => [`${index}:${records.reduce((a, b) => a + b, 0)}`]),
);

export const repartitionTo = streamsJobFactory(
  url,
  "repartitionTo",
  (to: number) => (s: DStream<number>) => s.repartition(to).glom(),
);

export const unionWithMapped = streamsJob(url, "unionWithMapped", (s: DStream<number>) =>
  s.union(s.map((x) => x + 4)),
);

export const contextUnion = streamsJob(url, "contextUnion", (s: DStream<number>) =>
  s.context.union(
    s,
    s.map((x) => x + 4),
    s.map((x) => x + 8),
  ),
);

export const unionOfSlides = streamsJob(url, "unionOfSlides", (s: DStream<number>) =>
  s.union(s.window(2000, 2000)),
);

export const transformWithTime = streamsJob(url, "transformWithTime", (s: DStream<number>) =>
  s.transform((batch, time) => batchRecords(batch).map((x) => `${time}:${x}`)),
);

export const transformReversed = streamsJob(url, "transformReversed", (s: DStream<number>) =>
  s.transform(async (batch) => ({ partitions: [...batch.partitions].reverse() })),
);

export const transformNull = streamsJob(url, "transformNull", (s: DStream<number>) =>
  s.transform(() => null as unknown as number[]),
);

export const transformRecords = streamsJob(url, "transformRecords", (s: DStream<number>) =>
  s.transform((b) => batchRecords(b)),
);

export const transformWithJoin = streamsJob(
  url,
  "transformWithJoin",
  (s1: DStream<string>, s2: DStream<string>) =>
    s1.transformWith(s2, (left, right) => {
      const rights = new Set(batchRecords(right));
      return batchRecords(left)
        .filter((x) => rights.has(x))
        .map((x) => [x, [1, "x"]] as const);
    }),
);

export const count = streamsJob(url, "count", (s: DStream<number>) => s.count());

export const countByValue = streamsJob(url, "countByValue", (s: DStream<number>) =>
  s.countByValue(),
);

export const sum = streamsJob(url, "sum", (s: DStream<number>) => s.reduce((a, b) => a + b));

export const bracketed = streamsJob(url, "bracketed", (s: DStream<string>) =>
  s.reduce((a, b) => `(${a}${b})`),
);

export const timesTenPositive = streamsJob(url, "timesTenPositive", (s: DStream<number>) =>
  s.map((x) => x * 10).filter((x) => x > 0),
);

export const identity = streamsJob(url, "identity", (s: DStream<number>) => s.map((x) => x));
