import type { DStream, SourceRecord } from "sluice";
import { streamsJob } from "sluice/testing";

// Build functions of byte-parsers.test.ts, exported so executors can import them.
const url = import.meta.url;

export const wordCount = streamsJob(url, "wordCount", (records: DStream<SourceRecord>) =>
  records.words().countByValue(),
);

export const csvCounts = streamsJob(url, "csvCounts", (records: DStream<SourceRecord>) =>
  records.lines().csvColumn(1).countByValue(3),
);

/** A lambda after a parser: the parser stays on the driver, the map and the count run as tasks. */
export const upperWordCount = streamsJob(url, "upperWordCount", (records: DStream<SourceRecord>) =>
  records
    .words()
    .map((word) => word.toUpperCase())
    .countByValue(),
);

/** A lambda after a columnar count: the count on the driver, the lambda as tasks over its columns. */
export const upperCounts = streamsJob(url, "upperCounts", (records: DStream<SourceRecord>) =>
  records
    .words()
    .countByValue(2)
    .map(([word, count]): [string, number] => [word.toUpperCase(), count]),
);

/** Lines held as strings, counted from their bytes. */
export const stringWordCount = streamsJob(url, "stringWordCount", (lines: DStream<string>) =>
  lines.words().countByValue(2),
);

/** The same count as a lambda over the strings: the reference. */
export const stringWordCountLambda = streamsJob(
  url,
  "stringWordCountLambda",
  (lines: DStream<string>) =>
    lines
      .flatMap((line) => line.split(/[ \t\n\v\f\r]+/).filter((word) => word !== ""))
      .countByValue(2),
);
