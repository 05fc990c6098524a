import { join } from "node:path";
import { decodeKeyColumn, JsKernels, type NativeKernels } from "sluice/advanced";
import {
  type Distribution,
  type KeyShape,
  keyColumnOf,
  keyIds,
  sumBits,
  valuesFor,
  writeArrays,
} from "./data.js";
import { type Contender, checksumsAgree, runContenders, type Summary, timeNs } from "./harness.js";
import { runRustLimit } from "./rust-limit.js";

/** One cell of the reduceByKey matrix. */
export interface ReduceCell {
  readonly keys: "u64" | "utf8 ≤16 B" | "utf8 ≈40 B";
  readonly distinct: number;
  readonly distribution: Distribution;
  readonly rows: number;
  readonly groups: number;
  readonly results: Summary[];
  readonly checksumsAgree: boolean;
}

const KEY_KINDS = [
  { label: "u64", shape: null },
  { label: "utf8 ≤16 B", shape: "short" },
  { label: "utf8 ≈40 B", shape: "long" },
] as const;

/**
 * B3: reduceByKey(sum) over one batch of `rows` records, for each key kind, key count and
 * distribution. Contenders: the native kernels, the TypeScript twin, a JS `Map` fed
 * ready-made keys (strings, or numbers for u64), and the Rust kernel without N-API.
 */
export function benchReduceByKey(options: {
  native: NativeKernels;
  rows: number;
  rounds: number;
  distinctCounts: readonly number[];
  tmp: string;
  log: (line: string) => void;
}): ReduceCell[] {
  const { native, rows, rounds, tmp } = options;
  const js = new JsKernels();
  const cells: ReduceCell[] = [];
  const values = valuesFor(rows, 7);
  for (const distinct of options.distinctCounts) {
    for (const distribution of ["uniform", "zipf1.2"] as const) {
      const ids = keyIds(
        rows,
        distinct,
        distribution,
        distinct + (distribution === "uniform" ? 1 : 2),
      );
      for (const kind of KEY_KINDS) {
        const dir = join(tmp, "b3");
        let contenders: Contender[];
        const checksum = (groups: number, sums: Iterable<number>) => `${groups}:${sumBits(sums)}`;
        if (kind.shape === null) {
          const ints = BigInt64Array.from(ids, (id) => BigInt(id) * 2654435761n);
          const numbers = Array.from(ids, (id) => id * 2654435761);
          writeArrays(dir, { "ints.bin": ints, "values.bin": values });
          contenders = [
            kernelContender(
              "native",
              () => native.reduceByKeyI64(ints, values, "sum").values,
              checksum,
            ),
            kernelContender(
              "ts twin",
              () => js.reduceByKeyI64(ints, values, "sum").values,
              checksum,
            ),
            {
              name: "js Map",
              run: () => {
                const { ns, value } = timeNs(() => {
                  const map = new Map<number, number>();
                  for (let i = 0; i < numbers.length; i++) {
                    const key = numbers[i] as number;
                    map.set(key, (map.get(key) ?? 0) + (values[i] as number));
                  }
                  return map;
                });
                return { ns, checksum: checksum(value.size, value.values()) };
              },
            },
            limitContender(["reduce-i64", dir, "sum"]),
          ];
        } else {
          const column = keyColumnOf(ids, kind.shape as KeyShape);
          const strings = decodeKeyColumn(column);
          writeArrays(dir, {
            "keys.bin": column.keys,
            "offsets.bin": column.offsets,
            "values.bin": values,
          });
          contenders = [
            kernelContender(
              "native",
              () => native.reduceByKeyUtf8(column, values, "sum").values,
              checksum,
            ),
            kernelContender(
              "ts twin",
              () => js.reduceByKeyUtf8(column, values, "sum").values,
              checksum,
            ),
            {
              name: "js Map",
              run: () => {
                const { ns, value } = timeNs(() => {
                  const map = new Map<string, number>();
                  for (let i = 0; i < strings.length; i++) {
                    const key = strings[i] as string;
                    map.set(key, (map.get(key) ?? 0) + (values[i] as number));
                  }
                  return map;
                });
                return { ns, checksum: checksum(value.size, value.values()) };
              },
            },
            limitContender(["reduce-utf8", dir, "sum"]),
          ];
        }
        const results = runContenders(contenders, rounds, (ns) => ns / rows);
        const groups = Number((results[0]?.checksum ?? "0").split(":")[0]);
        cells.push({
          keys: kind.label,
          distinct,
          distribution,
          rows,
          groups,
          results,
          checksumsAgree: checksumsAgree(results),
        });
        options.log(
          `B3 ${kind.label} ${distinct} ${distribution}: ${results.map((r) => `${r.name} ${r.median.toFixed(1)}`).join(", ")} ns/row`,
        );
      }
    }
  }
  return cells;
}

function kernelContender(
  name: string,
  run: () => Float64Array,
  checksum: (groups: number, sums: Iterable<number>) => string,
): Contender {
  return {
    name,
    run: () => {
      const { ns, value } = timeNs(run);
      return { ns, checksum: checksum(value.length, value) };
    },
  };
}

/** The Rust kernel without N-API, one child process per round (data read before timing). */
export function limitContender(args: readonly string[], name = "rust (no N-API)"): Contender {
  return {
    name,
    run: () => {
      const result = runRustLimit(args);
      const extra: Record<string, number> = {};
      if (result.emitNsPerRow !== undefined) extra.emitNsPerRow = result.emitNsPerRow;
      return { ns: result.ns, checksum: result.checksum, extra };
    },
  };
}
