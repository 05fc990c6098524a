import { join } from "node:path";
import {
  decodeKeyColumn,
  JsKernels,
  type Kernels,
  type KeyColumn,
  type NativeKernels,
} from "sluice/advanced";
import { limitContender } from "./b3-reduce-by-key.js";
import { keyColumnOf, keyIds, valuesFor, writeArrays } from "./data.js";
import { type Contender, runContenders, type Summary } from "./harness.js";

/** One slide of the sliding-window benchmark. */
export interface WindowCell {
  readonly windowMs: number;
  readonly slideMs: number;
  readonly ratio: number;
  readonly batchRows: number;
  readonly measuredRows: number;
  readonly results: Summary[];
  readonly checksumsAgree: boolean;
}

const NS = (start: bigint): number => Number(process.hrtime.bigint() - start);

/**
 * The streaming loop every contender runs: one batch per slide (`batchRows` records), the
 * running window moved at every slide (`advance`), panes older than the next window evicted.
 * Filling the first window is untimed; then "update" = add + advance + evict per record. With
 * `emitEverySlide` the window's result is also materialised at every slide (timed apart, per
 * emitted row); otherwise only once at the end, for the checksum.
 */
function windowLoop(
  kernels: Kernels,
  windowMs: number,
  slideMs: number,
  batches: readonly { keys: KeyColumn; values: Float64Array }[],
  fill: number,
  measure: number,
  emitEverySlide: boolean,
): { ns: number; checksum: string; extra: Record<string, number> } {
  const window = kernels.createWindowAggregator({ op: "sum", windowMs, slideMs, keyKind: "utf8" });
  let update = 0;
  let emitNs = 0;
  let emitted = 0;
  let checksum = 0;
  for (let b = 0; b < fill + measure; b++) {
    const t = (b + 1) * slideMs;
    const batch = batches[b % batches.length] as { keys: KeyColumn; values: Float64Array };
    const measured = b >= fill;
    let start = process.hrtime.bigint();
    window.add(t, batch);
    const added = NS(start);
    if (measured || b + 1 === fill) {
      start = process.hrtime.bigint();
      window.advance(t);
      const advanced = NS(start);
      if (measured) update += added + advanced;
      if (measured && (emitEverySlide || b + 1 === fill + measure)) {
        start = process.hrtime.bigint();
        const out = window.emit(t);
        emitNs += NS(start);
        emitted += out.values.length;
        for (const value of out.values) checksum += value;
      }
    }
    start = process.hrtime.bigint();
    if (t + slideMs > windowMs) window.evict(t + slideMs - windowMs);
    if (measured) update += NS(start);
  }
  return {
    ns: update,
    checksum: bitsOf(checksum),
    extra: { emitNsPerRow: emitNs / Math.max(emitted, 1) },
  };
}

/** The same loop with plain JS Maps fed ready-made strings, incremental like the kernels. */
function mapLoop(
  windowMs: number,
  slideMs: number,
  batches: readonly { strings: string[]; values: Float64Array }[],
  fill: number,
  measure: number,
  emitEverySlide: boolean,
): { ns: number; checksum: string; extra: Record<string, number> } {
  type Pane = { time: number; sums: Map<string, number>; counts: Map<string, number> };
  const panes: Pane[] = [];
  const runSums = new Map<string, number>();
  const runCounts = new Map<string, number>();
  let runHi = 0;
  let runLo = 1;
  let update = 0;
  let emitNs = 0;
  let emitted = 0;
  let checksum = 0;
  const materialise = (): [string[], Float64Array] => {
    const keys: string[] = [];
    const values = new Float64Array(runSums.size);
    let i = 0;
    for (const [key, sum] of runSums) {
      keys.push(key);
      values[i++] = sum;
    }
    return [keys, values];
  };
  for (let b = 0; b < fill + measure; b++) {
    const t = (b + 1) * slideMs;
    const batch = batches[b % batches.length] as { strings: string[]; values: Float64Array };
    const measured = b >= fill;
    let start = process.hrtime.bigint();
    const sums = new Map<string, number>();
    const counts = new Map<string, number>();
    for (let i = 0; i < batch.strings.length; i++) {
      const key = batch.strings[i] as string;
      sums.set(key, (sums.get(key) ?? 0) + (batch.values[i] as number));
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    panes.push({ time: t, sums, counts });
    const added = NS(start);
    if (measured || b + 1 === fill) {
      start = process.hrtime.bigint();
      const lo = t - windowMs;
      // Panes leaving the window sit at the front, the entering ones at the back.
      for (let i = 0; i < panes.length; i++) {
        const pane = panes[i] as Pane;
        if (pane.time > lo) break;
        if (pane.time < runLo) continue;
        for (const [key, count] of pane.counts) {
          const left = (runCounts.get(key) ?? 0) - count;
          if (left === 0) {
            runCounts.delete(key);
            runSums.delete(key);
          } else {
            runCounts.set(key, left);
            runSums.set(key, (runSums.get(key) ?? 0) - (pane.sums.get(key) ?? 0));
          }
        }
      }
      let first = panes.length;
      while (first > 0 && (panes[first - 1] as Pane).time > runHi) first--;
      for (let i = first; i < panes.length; i++) {
        const pane = panes[i] as Pane;
        for (const [key, sum] of pane.sums) runSums.set(key, (runSums.get(key) ?? 0) + sum);
        for (const [key, count] of pane.counts)
          runCounts.set(key, (runCounts.get(key) ?? 0) + count);
      }
      runHi = t;
      runLo = lo + 1;
      const advanced = NS(start);
      if (measured) update += added + advanced;
      if (measured && (emitEverySlide || b + 1 === fill + measure)) {
        start = process.hrtime.bigint();
        const [, values] = materialise();
        emitNs += NS(start);
        emitted += values.length;
        for (const value of values) checksum += value;
      }
    }
    start = process.hrtime.bigint();
    while (panes.length > 0 && (panes[0] as Pane).time <= t + slideMs - windowMs) panes.shift();
    if (measured) update += NS(start);
  }
  return {
    ns: update,
    checksum: bitsOf(checksum),
    extra: { emitNsPerRow: emitNs / Math.max(emitted, 1) },
  };
}

function bitsOf(value: number): string {
  const bits = new BigUint64Array(new Float64Array([value]).buffer)[0] as bigint;
  return bits.toString(16).padStart(16, "0");
}

/**
 * B5: sum over a 30 s window of UTF-8 keys (100 k distinct, uniform) at a fixed input rate,
 * sliding by 1 s, 100 ms and 10 ms (window/slide 30, 300, 3000). The target: update cost per
 * record stays within 1.5x from 30 to 3000.
 */
export function benchWindows(options: {
  native: NativeKernels;
  ratePerSecond: number;
  measuredRows: number;
  rounds: number;
  tmp: string;
  log: (line: string) => void;
}): WindowCell[] {
  const { native, rounds, tmp } = options;
  const js = new JsKernels();
  const windowMs = 30_000;
  const cells: WindowCell[] = [];
  for (const slideMs of [1000, 100, 10]) {
    const batchRows = (options.ratePerSecond * slideMs) / 1000;
    const fill = windowMs / slideMs;
    const measure = Math.max(1, Math.round(options.measuredRows / batchRows));
    // A pool of batches the loop cycles through (enough for the measured part to see fresh data).
    const poolBatches = Math.min(fill + measure, Math.max(8, Math.ceil(1_000_000 / batchRows)));
    const rows = poolBatches * batchRows;
    const ids = keyIds(rows, 100_000, "uniform", slideMs);
    const column = keyColumnOf(ids, "short");
    const values = valuesFor(rows, slideMs + 1);
    writeArrays(join(tmp, "b5"), {
      "keys.bin": column.keys,
      "offsets.bin": column.offsets,
      "values.bin": values,
    });
    const batches = Array.from({ length: poolBatches }, (_, b) => {
      const from = b * batchRows;
      const offsets = column.offsets.slice(from, from + batchRows + 1);
      const base = offsets[0] as number;
      for (let i = 0; i < offsets.length; i++) offsets[i] = (offsets[i] as number) - base;
      const keys = column.keys.subarray(base, base + (offsets[batchRows] as number));
      const batch = { keys: { keys, offsets }, values: values.subarray(from, from + batchRows) };
      return { ...batch, strings: decodeKeyColumn(batch.keys) };
    });
    const limitArgs = (emit: boolean) => [
      "window",
      join(tmp, "b5"),
      String(windowMs),
      String(slideMs),
      String(batchRows),
      String(fill),
      String(measure),
      emit ? "1" : "0",
    ];
    const contenders: Contender[] = [
      {
        name: "native",
        run: () => windowLoop(native, windowMs, slideMs, batches, fill, measure, false),
      },
      {
        name: "ts twin",
        run: () => windowLoop(js, windowMs, slideMs, batches, fill, measure, false),
      },
      { name: "js Map", run: () => mapLoop(windowMs, slideMs, batches, fill, measure, false) },
      limitContender(limitArgs(false)),
      {
        name: "native, emitting",
        run: () => windowLoop(native, windowMs, slideMs, batches, fill, measure, true),
      },
      limitContender(limitArgs(true), "rust, emitting"),
    ];
    const measuredRows = measure * batchRows;
    // Every run fills a whole window untimed before measuring, which is its own warm-up.
    const results = runContenders(contenders, rounds, (ns) => ns / measuredRows, { warmUp: false });
    const kernelResults = results.filter(
      (r) => !r.name.includes("Map") && !r.name.includes("emitting"),
    );
    cells.push({
      windowMs,
      slideMs,
      ratio: windowMs / slideMs,
      batchRows,
      measuredRows,
      results,
      checksumsAgree: kernelResults.every((r) => r.checksum === kernelResults[0]?.checksum),
    });
    options.log(
      `B5 slide ${slideMs} ms: ${results.map((r) => `${r.name} ${r.median.toFixed(1)} (+emit ${(r.extra.emitNsPerRow ?? 0).toFixed(1)}/row)`).join(", ")} ns/record`,
    );
  }
  return cells;
}
