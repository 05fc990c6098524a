import type { ReduceCell } from "./b3-reduce-by-key.js";
import type { ShuffleCell } from "./b4-shuffle.js";
import type { WindowCell } from "./b5-windows.js";
import { fmt, type Summary, spread } from "./harness.js";
import type { PairsThresholdPoint } from "./pairs-threshold.js";
import type { ThresholdPoint } from "./threshold.js";
import type { WordCountCell } from "./word-count.js";

/** Everything one `npm run bench` measured. */
export interface BenchResults {
  readonly startedAt: string;
  readonly machine: { readonly cpus: number; readonly model: string; readonly node: string };
  /** 1-minute load averages when the run started and ended (other work on the machine). */
  readonly load: { start: number; end: number };
  readonly settings: Record<string, number | string>;
  readonly b3?: ReduceCell[];
  readonly b4?: ShuffleCell[];
  readonly b5?: WindowCell[];
  readonly threshold?: { readonly points: ThresholdPoint[]; readonly crossover: number };
  readonly pairsThreshold?: PairsThresholdPoint[];
  readonly wordCount?: WordCountCell;
  readonly elapsedSeconds: number;
}

const byName = (results: readonly Summary[], name: string): Summary | undefined =>
  results.find((r) => r.name === name);

const mark = (ok: boolean): string => (ok ? "✅" : "❌");

/** The Markdown report: one table per benchmark, ratios against the baselines and targets. */
export function toMarkdown(results: BenchResults): string {
  const lines: string[] = [];
  const { machine, settings } = results;
  lines.push(`# Sluice benchmarks — ${results.startedAt}`, "");
  lines.push(
    `${machine.cpus} × ${machine.model}, Node ${machine.node}, load average ${fmt(results.load.start)} at the start and ${fmt(results.load.end)} at the end. Settings: ${Object.entries(
      settings,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(
        ", ",
      )}. Medians over the rounds, (min–max) after them; contenders alternate within each round.`,
    "",
  );
  if (results.b3 !== undefined) {
    lines.push("## B3 reduceByKey(sum), ns per record (lower is better)", "");
    lines.push(
      "| keys | distinct | distribution | groups | native | ts twin | js Map | rust (no N-API) | native vs Map | native / rust speed | checksums |",
      "|---|---|---|---|---|---|---|---|---|---|---|",
    );
    for (const cell of results.b3) {
      const n = byName(cell.results, "native") as Summary;
      const t = byName(cell.results, "ts twin") as Summary;
      const m = byName(cell.results, "js Map") as Summary;
      const r = byName(cell.results, "rust (no N-API)") as Summary;
      lines.push(
        `| ${cell.keys} | ${cell.distinct.toLocaleString("en")} | ${cell.distribution} | ${cell.groups.toLocaleString("en")} | ${spread(n)} | ${spread(t)} | ${spread(m)} | ${spread(r)} | ${fmt(m.median / n.median)}x | ${fmt(r.median / n.median)} | ${mark(cell.checksumsAgree)} |`,
      );
    }
    const at1e5 = results.b3.filter((c) => c.distinct === 100_000);
    const speedups = at1e5.map(
      (c) =>
        (byName(c.results, "js Map") as Summary).median /
        (byName(c.results, "native") as Summary).median,
    );
    const bindingShares = results.b3.map(
      (c) =>
        (byName(c.results, "rust (no N-API)") as Summary).median /
        (byName(c.results, "native") as Summary).median,
    );
    lines.push(
      "",
      `Targets: native ≥ 5x the JS Map at 100 k keys — worst cell ${fmt(Math.min(...speedups))}x ${mark(Math.min(...speedups) >= 5)}; binding ≥ 0.85 of the Rust kernel without N-API — worst cell ${fmt(Math.min(...bindingShares))}, median ${fmt(medianOf(bindingShares))} ${mark(medianOf(bindingShares) >= 0.85)}.`,
      "",
    );
  }
  if (results.b4 !== undefined) {
    lines.push(
      "## B4 shuffle (stable, by partition id), GB/s of row ids moved (higher is better)",
      "",
    );
    lines.push(
      "| partitions | rows | native | ts twin | js arrays | rust (no N-API) | memcpy | native / memcpy | checksums |",
      "|---|---|---|---|---|---|---|---|---|",
    );
    for (const cell of results.b4) {
      const get = (name: string) => byName(cell.results, name) as Summary;
      lines.push(
        `| ${cell.partitions} | ${cell.rows.toLocaleString("en")} | ${spread(get("native"))} | ${spread(get("ts twin"))} | ${spread(get("js arrays"))} | ${spread(get("rust (no N-API)"))} | ${spread(cell.memcpy)} | ${fmt((100 * get("native").median) / cell.memcpy.median)}% | ${mark(cell.checksumsAgree)} |`,
      );
    }
    const at16 = results.b4.find((c) => c.partitions === 16);
    if (at16 !== undefined) {
      const share = (byName(at16.results, "native") as Summary).median / at16.memcpy.median;
      lines.push(
        "",
        `Target: 16 partitions at ≥ 30% of in-run memcpy — ${fmt(100 * share)}% ${mark(share >= 0.3)}.`,
        "",
      );
    }
  }
  if (results.b5 !== undefined) {
    lines.push(
      "## B5 sliding window sum (30 s window, 100 k keys), update ns per record (lower is better)",
      "",
      "Update = add + advance (moving the running window) + evict, per input record. The last",
      "columns repeat the native and Rust runs with the window's result also materialised at",
      "every slide: update ns per record, then emit ns per emitted row.",
      "",
    );
    lines.push(
      "| slide | window/slide | records/batch | native | ts twin | js Map | rust (no N-API) | native emitting: update / emit per row | rust emitting: update / emit per row | checksums |",
      "|---|---|---|---|---|---|---|---|---|---|",
    );
    for (const cell of results.b5) {
      const get = (name: string) => byName(cell.results, name) as Summary;
      const emitting = (name: string) =>
        `${spread(get(name))} / ${fmt(get(name).extra.emitNsPerRow ?? 0)}`;
      lines.push(
        `| ${cell.slideMs} ms | ${cell.ratio} | ${cell.batchRows.toLocaleString("en")} | ${spread(get("native"))} | ${spread(get("ts twin"))} | ${spread(get("js Map"))} | ${spread(get("rust (no N-API)"))} | ${emitting("native, emitting")} | ${emitting("rust, emitting")} | ${mark(cell.checksumsAgree)} |`,
      );
    }
    const first = results.b5[0];
    const last = results.b5[results.b5.length - 1];
    if (first !== undefined && last !== undefined) {
      const growth = (name: string) =>
        (byName(last.results, name) as Summary).median /
        (byName(first.results, name) as Summary).median;
      lines.push(
        "",
        `Target: update cost grows ≤ 1.5x from window/slide ${first.ratio} to ${last.ratio} — native ${fmt(growth("native"))}x ${mark(growth("native") <= 1.5)}, ts twin ${fmt(growth("ts twin"))}x, rust ${fmt(growth("rust (no N-API)"))}x; emitting every slide: native ${fmt(growth("native, emitting"))}x, rust ${fmt(growth("rust, emitting"))}x.`,
        "",
      );
    }
  }
  if (results.threshold !== undefined) {
    lines.push("## Small batches: reduceByKey(sum) ns per record, native vs TypeScript twin", "");
    lines.push("| rows | utf8 native | utf8 ts | i64 native | i64 ts |", "|---|---|---|---|---|");
    for (const p of results.threshold.points) {
      lines.push(
        `| ${p.rows} | ${fmt(p.utf8.native)} | ${fmt(p.utf8.ts)} | ${fmt(p.i64.native)} | ${fmt(p.i64.ts)} |`,
      );
    }
    lines.push("", `Native is at least as fast from ${results.threshold.crossover} rows on.`, "");
  }
  if (results.pairsThreshold !== undefined) {
    lines.push(
      "## Main thread: reduceByKey(sum) over JS pairs, ns per record (lower is better)",
      "",
      "The row-by-row reference (KeyedMap) against the kernel path (keys encoded into a column, reduced, placed into 2 partitions, results decoded), a quarter of the rows distinct.",
      "",
      "| rows | strings: reference | native | ts twin | integers: reference | native | ts twin |",
      "|---|---|---|---|---|---|---|",
    );
    for (const p of results.pairsThreshold) {
      lines.push(
        `| ${p.rows} | ${fmt(p.strings.reference)} | ${fmt(p.strings.native)} | ${fmt(p.strings.ts)} | ${fmt(p.integers.reference)} | ${fmt(p.integers.native)} | ${fmt(p.integers.ts)} |`,
      );
    }
    lines.push("");
  }
  if (results.wordCount !== undefined) {
    const cell = results.wordCount;
    lines.push(
      "## Word count over byte records, end to end: ns per word (lower is better)",
      "",
      `One batch of ${cell.records.toLocaleString("en")} records of 100 bytes (${cell.words.toLocaleString("en")} Zipf(1.2) words, ${cell.distinct.toLocaleString("en")} distinct) through a streaming job on a manual clock.`,
      "",
      "| contender | ns per word | vs lambda | checksums |",
      "|---|---|---|---|",
    );
    const lambda = byName(cell.results, "lambda") as Summary;
    for (const result of cell.results) {
      lines.push(
        `| ${result.name} | ${spread(result)} | ${fmt(lambda.median / result.median)}x | ${mark(cell.checksumsAgree)} |`,
      );
    }
    lines.push("");
  }
  lines.push(`Total time: ${fmt(results.elapsedSeconds)} s.`, "");
  return lines.join("\n");
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}
