import type { Batch } from "sluice";
import { JsKernels, type Kernels } from "sluice/advanced";
import { reduceBatchNamed, reduceByKeyNamed } from "../core/src/dstream/named-reductions.js";
import { keyIds, keyText } from "./data.js";
import { runContenders, timeNs } from "./harness.js";

/** ns per row of reduceByKey("sum") over a batch of JS pairs, by path, at one batch size. */
export interface PairsThresholdPoint {
  readonly rows: number;
  readonly strings: { readonly reference: number; readonly native: number; readonly ts: number };
  readonly integers: { readonly reference: number; readonly native: number; readonly ts: number };
}

/** The kernel path whatever the batch size. */
function onKernels(batch: Batch<[unknown, number]>, kernels: Kernels): Batch<[unknown, number]> {
  return reduceBatchNamed(batch, "sum", 2, kernels, { jsBelowRows: 0 });
}

/**
 * The main-thread choice for `reduceByKey("sum")` over JS `[key, number]` pairs: the row-by-row
 * reference (a KeyedMap) against the kernel path (keys encoded into a column, reduced, placed
 * into 2 partitions, results decoded and read), for short string keys and integer keys, a
 * quarter of the rows distinct. Each sample repeats the batch until about `rowsPerSample` rows.
 */
export function benchPairsThreshold(options: {
  readonly native: Kernels;
  readonly sizes: readonly number[];
  readonly rowsPerSample: number;
  readonly rounds: number;
}): PairsThresholdPoint[] {
  const js = new JsKernels();
  return options.sizes.map((rows) => {
    const ids = keyIds(rows, Math.max(1, rows >> 2), "uniform", rows);
    const strings: Batch<[string, number]> = {
      time: 1000,
      partitions: [Array.from(ids, (id, i): [string, number] => [keyText(id, "short"), i * 0.5])],
    };
    const integers: Batch<[number, number]> = {
      time: 1000,
      partitions: [Array.from(ids, (id, i): [number, number] => [id, i * 0.5])],
    };
    const repeats = Math.max(1, Math.round(options.rowsPerSample / rows));
    const repeat = (work: () => Batch<unknown> | ReadonlyArray<ReadonlyArray<unknown>>) => () => {
      const { ns, value } = timeNs(() => {
        let records = 0;
        for (let r = 0; r < repeats; r++) {
          const out = work();
          // Read the records, as the next operation would (columns are decoded here).
          const partitions = "partitions" in out ? out.partitions : out;
          for (const partition of partitions) records += partition.length;
        }
        return records;
      });
      return { ns, checksum: String(value) };
    };
    const measure = (batch: Batch<[unknown, number]>) =>
      runContenders(
        [
          { name: "reference", run: repeat(() => reduceByKeyNamed(batch, "sum", 2)) },
          { name: "native", run: repeat(() => onKernels(batch, options.native)) },
          { name: "ts twin", run: repeat(() => onKernels(batch, js)) },
        ],
        options.rounds,
        (ns) => ns / (rows * repeats),
      ).map((s) => s.median) as [number, number, number];
    const [sr, sn, st] = measure(strings);
    const [ir, inative, it] = measure(integers);
    return {
      rows,
      strings: { reference: sr, native: sn, ts: st },
      integers: { reference: ir, native: inative, ts: it },
    };
  });
}
