import { JsKernels, type NativeKernels } from "sluice/advanced";
import { keyColumnOf, keyIds, valuesFor } from "./data.js";
import { runContenders, timeNs } from "./harness.js";

/** Native and TypeScript cost per row of reduceByKey at one batch size. */
export interface ThresholdPoint {
  readonly rows: number;
  readonly utf8: { readonly native: number; readonly ts: number };
  readonly i64: { readonly native: number; readonly ts: number };
}

/**
 * Measures reduceByKey(sum) on small batches (short UTF-8 keys and 64-bit keys, a quarter of
 * the rows distinct) to find where the addon starts beating the TypeScript twin. Each sample
 * repeats the batch until about `rowsPerSample` rows were processed.
 */
export function benchThreshold(options: {
  native: NativeKernels;
  sizes: readonly number[];
  rowsPerSample: number;
  rounds: number;
}): ThresholdPoint[] {
  const js = new JsKernels();
  return options.sizes.map((rows) => {
    const ids = keyIds(rows, Math.max(1, rows >> 2), "uniform", rows);
    const column = keyColumnOf(ids, "short");
    const ints = BigInt64Array.from(ids, (id) => BigInt(id));
    const values = valuesFor(rows, rows + 3);
    const repeats = Math.max(1, Math.round(options.rowsPerSample / rows));
    const repeat = (work: () => Float64Array) => () => {
      const { ns, value } = timeNs(() => {
        let last: Float64Array = new Float64Array(0);
        for (let r = 0; r < repeats; r++) last = work();
        return last;
      });
      return { ns, checksum: String(value.length) };
    };
    const [utf8Native, utf8Ts, i64Native, i64Ts] = runContenders(
      [
        {
          name: "utf8 native",
          run: repeat(() => options.native.reduceByKeyUtf8(column, values, "sum").values),
        },
        { name: "utf8 ts", run: repeat(() => js.reduceByKeyUtf8(column, values, "sum").values) },
        {
          name: "i64 native",
          run: repeat(() => options.native.reduceByKeyI64(ints, values, "sum").values),
        },
        { name: "i64 ts", run: repeat(() => js.reduceByKeyI64(ints, values, "sum").values) },
      ],
      options.rounds,
      (ns) => ns / (rows * repeats),
    ).map((s) => s.median) as [number, number, number, number];
    return {
      rows,
      utf8: { native: utf8Native, ts: utf8Ts },
      i64: { native: i64Native, ts: i64Ts },
    };
  });
}

/** The smallest measured batch size from which native is at least as fast for both key kinds. */
export function crossover(points: readonly ThresholdPoint[]): number {
  for (let i = 0; i < points.length; i++) {
    const rest = points.slice(i);
    if (rest.every((p) => p.utf8.native <= p.utf8.ts && p.i64.native <= p.i64.ts)) {
      return (points[i] as ThresholdPoint).rows;
    }
  }
  return Number.POSITIVE_INFINITY;
}
