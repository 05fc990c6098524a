import { join } from "node:path";
import { JsKernels, type NativeKernels } from "sluice/advanced";
import { limitContender } from "./b3-reduce-by-key.js";
import { foldU32, Rng, writeArrays } from "./data.js";
import { type Contender, checksumsAgree, runContenders, type Summary, timeNs } from "./harness.js";

/** One partition count of the shuffle benchmark. */
export interface ShuffleCell {
  readonly partitions: number;
  readonly rows: number;
  /** Bytes of row ids moved into partition order per run (4 per row). */
  readonly bytes: number;
  readonly results: Summary[];
  readonly memcpy: Summary;
  readonly checksumsAgree: boolean;
}

/**
 * B4: group `rows` rows by partition id (stable) into 2, 16 and 256 partitions. Reported as
 * GB/s of row ids moved (4 bytes per row), next to the in-run bandwidth of `TypedArray.set`
 * copying the same number of bytes between two reused buffers. Contenders: native, the
 * TypeScript twin, plain JS arrays (`parts[p].push(row)`), and the Rust kernel without N-API.
 */
export function benchShuffle(options: {
  native: NativeKernels;
  rows: number;
  rounds: number;
  tmp: string;
  log: (line: string) => void;
}): ShuffleCell[] {
  const { native, rows, rounds, tmp } = options;
  const js = new JsKernels();
  const bytes = rows * 4;
  const cells: ShuffleCell[] = [];
  const source = new Uint8Array(bytes).fill(7);
  const target = new Uint8Array(bytes);
  for (const partitions of [2, 16, 256]) {
    const rng = new Rng(partitions);
    const ids = new Uint32Array(rows);
    for (let i = 0; i < rows; i++) ids[i] = rng.next() % partitions;
    const dir = join(tmp, "b4");
    writeArrays(dir, { "ids.bin": ids });
    const kernel = (name: string, run: () => Uint32Array): Contender => ({
      name,
      run: () => {
        const { ns, value } = timeNs(run);
        return { ns, checksum: foldU32(value) };
      },
    });
    const contenders: Contender[] = [
      kernel("native", () => native.shuffle(ids, partitions).permutation),
      kernel("ts twin", () => js.shuffle(ids, partitions).permutation),
      kernel("js arrays", () => {
        const parts: number[][] = Array.from({ length: partitions }, () => []);
        for (let row = 0; row < rows; row++) (parts[ids[row] as number] as number[]).push(row);
        return Uint32Array.from(parts.flat());
      }),
      limitContender(["shuffle", dir, String(partitions)]),
      {
        name: "memcpy",
        run: () => {
          const { ns } = timeNs(() => target.set(source));
          return { ns, checksum: "memcpy" };
        },
      },
    ];
    const all = runContenders(contenders, rounds, (ns) => bytes / ns);
    const memcpy = all[all.length - 1] as Summary;
    const results = all.slice(0, -1);
    cells.push({
      partitions,
      rows,
      bytes,
      results,
      memcpy,
      checksumsAgree: checksumsAgree(results),
    });
    options.log(
      `B4 ${partitions} partitions: ${all.map((r) => `${r.name} ${r.median.toFixed(2)}`).join(", ")} GB/s`,
    );
  }
  return cells;
}
