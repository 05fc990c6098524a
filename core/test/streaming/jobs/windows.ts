import type { DStream, Duration } from "sluice";
import { streamsJob, streamsJobFactory } from "sluice/testing";

// Build functions of window-operations.test.ts, exported so executors can import them.
const url = import.meta.url;

type Pairs = DStream<[string, number]>;

export const window = streamsJobFactory(
  url,
  "window",
  ({ window, slide }: { window: Duration; slide?: Duration }) =>
    (s: DStream<number>) =>
      s.window(window, slide),
);

export const windowOfWindow = streamsJob(url, "windowOfWindow", (s: DStream<number>) =>
  s.window(2000).window(4000, 2000),
);

export const reduceByKeyAndWindow = streamsJobFactory(
  url,
  "reduceByKeyAndWindow",
  ({
    window,
    slide,
    inverse,
    filterZero,
  }: {
    window: Duration;
    slide?: Duration;
    inverse: boolean;
    filterZero?: boolean;
  }) =>
    (s: Pairs) =>
      s.reduceByKeyAndWindow((a, b) => a + b, {
        window,
        ...(slide === undefined ? {} : { slide }),
        ...(inverse ? { inverse: (a: number, b: number) => a - b } : {}),
        ...(filterZero === true ? { filter: ([, count]: [string, number]) => count !== 0 } : {}),
      }),
);

export const groupByKeyAndWindow = streamsJobFactory(
  url,
  "groupByKeyAndWindow",
  ({ window, slide }: { window: Duration; slide?: Duration }) =>
    (s: Pairs) =>
      s.groupByKeyAndWindow(window, slide),
);

export const countByWindow = streamsJobFactory(
  url,
  "countByWindow",
  ({ window, slide }: { window: Duration; slide?: Duration }) =>
    (s: DStream<number>) =>
      s.countByWindow(window, slide),
);

export const countByValueAndWindow = streamsJob(
  url,
  "countByValueAndWindow",
  (s: DStream<string>) => s.countByValueAndWindow(2000, 1000),
);

export const reduceByWindow = streamsJobFactory(
  url,
  "reduceByWindow",
  ({ window, slide, inverse }: { window: Duration; slide?: Duration; inverse: boolean }) =>
    (s: DStream<number>) =>
      s.reduceByWindow((a, b) => a + b, {
        window,
        ...(slide === undefined ? {} : { slide }),
        ...(inverse ? { inverse: (a: number, b: number) => a - b } : {}),
      }),
);
