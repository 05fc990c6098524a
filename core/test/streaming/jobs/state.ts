import type { DStream, MapWithStateDStream, State } from "sluice";
import { streamsJob, streamsJobFactory } from "sluice/testing";

// Build functions of state-operations.test.ts, exported so executors can import them. State
// lives on the driver (docs/executors.md), so the state functions run there and what they
// observe lands in `trace` of the module the test imported.
const url = import.meta.url;

/** What the state functions observed in the last run (reset when a job is built). */
export const trace: unknown[] = [];
/** `stateSnapshots()` of the last `mapWithStateSnapshots` run, batch by batch. */
export const snapshots: [string, unknown][][] = [];

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const ones = (s: DStream<string>) => s.map((x): [string, number] => [x, 1]);

export const runningCount = streamsJob(url, "runningCount", (s: DStream<string>) =>
  ones(s).updateStateByKey((values, state: number | undefined) => sum(values) + (state ?? 0)),
);

export const runningCountFromInitial = streamsJob(
  url,
  "runningCountFromInitial",
  (s: DStream<string>) =>
    ones(s).updateStateByKey((values, state: number | undefined) => sum(values) + (state ?? 0), {
      initialState: [
        ["a", 1],
        ["c", 2],
      ],
    }),
);

export const timeAndKey = streamsJob(url, "timeAndKey", (s: DStream<string>) => {
  trace.length = 0;
  return ones(s).updateStateByKey(
    (values, state: number | undefined, { time, key }) => {
      trace.push(key);
      return values.length > 0 ? time + (state ?? 0) : (state ?? 0);
    },
    {
      initialState: [
        ["a", 0],
        ["c", 0],
      ],
    },
  );
});

class Counter {
  counter = 0;
  expireCounter = 0;
}

export const expiringCounters = streamsJob(url, "expiringCounters", (s: DStream<string>) =>
  ones(s)
    .updateStateByKey((values, state: Counter | undefined) => {
      const counter = state ?? new Counter();
      const added = sum(values);
      if (added === 0) counter.expireCounter += 1;
      else {
        counter.counter += added;
        counter.expireCounter = 0;
      }
      return counter.expireCounter === 2 ? undefined : counter;
    })
    .mapValues((counter) => counter.counter),
);

type Pairs = DStream<[string, number]>;
type Mapped = MapWithStateDStream<string, number, number, unknown>;

const attempt = (fn: () => unknown): unknown => {
  try {
    return fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

const specs: Record<string, (pairs: Pairs) => Mapped> = {
  runningCount: (pairs) =>
    pairs.mapWithState({
      fn: (key, value, state: State<number>) => {
        const total = (value ?? 0) + (state.getOption() ?? 0);
        state.update(total);
        return [key, total] as [string, number];
      },
    }),
  timeOrNothing: (pairs) =>
    pairs.mapWithState({
      fn: (key, value, state: State<number>, { time }) => {
        state.update((value ?? 0) + (state.getOption() ?? 0));
        return time >= 4000 ? `${key}${key}@${time}` : undefined;
      },
    }),
  initialState: (pairs) =>
    pairs.mapWithState({
      fn: (_key, value, state: State<number>) => {
        state.update((value ?? 0) + (state.getOption() ?? 0));
        return undefined;
      },
      initialState: [
        ["a", 5],
        ["b", 10],
        ["c", -20],
        ["d", 0],
      ],
    }),
  removes: (pairs) =>
    pairs.mapWithState({
      fn: (key, value, state: State<number>) => {
        if (state.exists()) {
          state.remove();
          return key;
        }
        state.update(value as number);
        return undefined;
      },
      numPartitions: 1,
    }),
  timesOut: (pairs) =>
    pairs.mapWithState({
      fn: (key, value, state: State<number>, { time }) => {
        trace.push(`${time}:${key}:${value === undefined ? "-" : value}:${state.isTimingOut()}`);
        if (value !== undefined) state.update(1);
        return state.isTimingOut() ? key : undefined;
      },
      timeout: "3s",
    }),
  idleInitial: (pairs) =>
    pairs.mapWithState({
      fn: (key, _value, state: State<number>) =>
        state.isTimingOut() ? `${key} timed out` : undefined,
      initialState: [["idle", 0]],
      timeout: 2000,
    }),
  stateRules: (pairs) =>
    pairs.mapWithState({
      fn: (_key, value, state: State<number>) => {
        if (value !== undefined) {
          trace.push(
            state.exists(),
            attempt(() => state.get()),
            state.getOption(),
          );
          state.update(2);
          trace.push(state.exists(), state.get());
          state.remove();
          trace.push(
            state.exists(),
            attempt(() => state.update(3)),
            attempt(() => state.remove()),
          );
        }
        return undefined;
      },
    }),
  timingOutRules: (pairs) =>
    pairs.mapWithState({
      fn: (_key, value, state: State<number>) => {
        if (value !== undefined) state.update(7);
        else if (state.isTimingOut()) {
          trace.push(
            state.exists(),
            state.get(),
            attempt(() => state.update(1)),
            attempt(() => state.remove()),
          );
        }
        return undefined;
      },
      timeout: 1000,
    }),
  keepAlive: (pairs) =>
    pairs.mapWithState({
      fn: (key, _value, state: State<number>) => {
        if (!state.exists()) state.update(0);
        return state.isTimingOut() ? key : undefined;
      },
      timeout: "2s",
    }),
};

/** The names of the `mapWithState` specs above. */
export type SpecName = keyof typeof specs;

export const mapWithStateSnapshots = streamsJobFactory(
  url,
  "mapWithStateSnapshots",
  (spec: SpecName) => (s: DStream<string>) => {
    trace.length = 0;
    snapshots.length = 0;
    const build = specs[spec];
    if (build === undefined) throw new Error(`no mapWithState spec named ${spec}`);
    const mapped = build(ones(s));
    mapped.stateSnapshots().foreachBatch((batch) => {
      snapshots.push(batch.partitions.flat() as [string, unknown][]);
    });
    return mapped;
  },
);
