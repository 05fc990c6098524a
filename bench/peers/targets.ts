/**
 * The performance targets of the word count against its peers, judged on one run's medians, so
 * that every full run of `npm run bench -- --peers` shows which it met and which it missed.
 */
import type { PeerResult, PeerWorkloadResult } from "./run.js";

/** One target: `faster`'s speed over `baseline`'s (baseline's median time over faster's) ≥ `min`. */
interface Target {
  readonly label: string;
  readonly baseline: string;
  readonly faster: string;
  readonly min: number;
  /** The workloads it applies to (ids). */
  readonly workloads: readonly string[];
}

const EVERY_WORKLOAD = ["W1-small", "W1-large", "W2", "socket"] as const;
const W1 = ["W1-small", "W1-large"] as const;

/** The targets, by the contenders' short names. */
const TARGETS: readonly Target[] = [
  {
    label: "columnar `local[2]` ≥ 5x Spark",
    baseline: "Spark local[2]",
    faster: "columnar local[2]",
    min: 5,
    workloads: EVERY_WORKLOAD,
  },
  {
    label: "columnar `local[2]` ≥ 0.6x the Rust limit",
    baseline: "Rust limit",
    faster: "columnar local[2]",
    min: 0.6,
    workloads: EVERY_WORKLOAD,
  },
  {
    label: "lambda `local[2]` ≥ 1.2x the Node loop",
    baseline: "Node loop",
    faster: "lambda local[2]",
    min: 1.2,
    workloads: EVERY_WORKLOAD,
  },
  {
    label: "lambda `local[2]` ≥ 1.7x `local[1]`",
    baseline: "lambda local[1]",
    faster: "lambda local[2]",
    min: 1.7,
    workloads: W1,
  },
  {
    label: "columnar `local[2]` ≥ 1.7x `local[1]`",
    baseline: "columnar local[1]",
    faster: "columnar local[2]",
    min: 1.7,
    workloads: W1,
  },
];

/**
 * The targets as a Markdown table: per workload the ratio of medians in this run, ✅ or ❌;
 * "–" where a contender did not run or failed.
 *
 * @example
 * targetsMarkdown(workloads, (w, short) => w.results[shortNames.indexOf(short)]);
 */
export function targetsMarkdown(
  workloads: readonly PeerWorkloadResult[],
  resultOf: (workload: PeerWorkloadResult, short: string) => PeerResult | undefined,
): string[] {
  const columns = EVERY_WORKLOAD.map((id) => workloads.find((w) => w.id === id));
  const out = [
    "### Targets (ratios of the medians in this run)",
    "",
    `| target | ${EVERY_WORKLOAD.join(" | ")} |`,
    `|---|${columns.map(() => "---").join("|")}|`,
  ];
  for (const target of TARGETS) {
    const cells = columns.map((w) => {
      if (w === undefined || !target.workloads.includes(w.id)) return "";
      const baseline = resultOf(w, target.baseline);
      const faster = resultOf(w, target.faster);
      if (baseline === undefined || faster === undefined) return "–";
      if (baseline.failure !== undefined || faster.failure !== undefined) return "–";
      const ratio = baseline.median / faster.median;
      return `${ratio.toFixed(2)}x ${ratio >= target.min ? "✅" : "❌"}`;
    });
    out.push(`| ${target.label} | ${cells.join(" | ")} |`);
  }
  return out;
}
