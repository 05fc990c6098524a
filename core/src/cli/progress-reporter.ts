import type { BatchInfo, StreamingListener } from "../scheduler/listener.js";
import { redactText } from "../util/redact-text.js";

/** How progress is shown: a live status line, plain log lines, or JSON lines. */
export type ProgressMode = "status-line" | "lines" | "json";

/** Totals the reporter keeps; the summary at the end reads them. */
export interface ProgressTotals {
  readonly batches: number;
  readonly recordsIn: number;
  /** Records that reached the job's output operations (summed over the operations). */
  readonly recordsOut: number;
  readonly lastProcessingMs: number | undefined;
  readonly lastSchedulingDelayMs: number | undefined;
}

/** Where progress goes (stderr in the CLI); a test passes a collector. */
export interface ProgressOutput {
  write(text: string): void;
}

/**
 * A listener that shows each completed batch: on a terminal one status line rewritten in place,
 * otherwise one plain line per batch, or with `--json` one JSON object per line.
 *
 * @example
 * ctx.addListener(new ProgressReporter("lines", 1000, process.stderr));
 */
export class ProgressReporter implements StreamingListener {
  private batches = 0;
  private recordsIn = 0;
  private recordsOut = 0;
  private lastProcessingMs: number | undefined;
  private lastSchedulingDelayMs: number | undefined;
  private readonly recentRates: number[] = [];
  private statusShown = false;
  private address: string | undefined;
  /** In cluster mode, the input partitions the group gave this process. */
  private partitions: readonly string[] | undefined;

  constructor(
    private readonly mode: ProgressMode,
    private readonly batchIntervalMs: number,
    private readonly output: ProgressOutput,
  ) {}

  onBatchCompleted(info: BatchInfo): void {
    this.batches++;
    this.recordsIn += info.numRecords;
    let batchOut = 0;
    for (const output of info.outputOperationInfos.values()) batchOut += output.numRecords ?? 0;
    this.recordsOut += batchOut;
    this.lastProcessingMs = info.processingDelay;
    this.lastSchedulingDelayMs = info.schedulingDelay;
    // The input rate over the last ten batches, in records per second.
    this.recentRates.push((info.numRecords * 1000) / this.batchIntervalMs);
    if (this.recentRates.length > 10) this.recentRates.shift();
    const inputRate =
      this.recentRates.reduce((sum, rate) => sum + rate, 0) / this.recentRates.length;
    switch (this.mode) {
      case "json":
        this.output.write(
          `${JSON.stringify({
            event: "batchCompleted",
            batchTime: info.batchTime,
            records: info.numRecords,
            inputRate: round(inputRate),
            processingMs: info.processingDelay,
            schedulingDelayMs: info.schedulingDelay,
            totalDelayMs: info.totalDelay,
            recordsOut: batchOut,
            batches: this.batches,
            recordsIn: this.recordsIn,
            totalRecordsOut: this.recordsOut,
            ...(this.partitions === undefined ? {} : { partitions: this.partitions }),
          })}\n`,
        );
        return;
      case "lines":
        this.output.write(
          `batch ${new Date(info.batchTime).toISOString()} records=${info.numRecords} out=${batchOut} processing=${ms(info.processingDelay)} scheduling-delay=${ms(info.schedulingDelay)} total-delay=${ms(info.totalDelay)}${this.partitions === undefined ? "" : ` partitions=${this.partitions.join(",") || "none"}`}\n`,
        );
        return;
      case "status-line":
        this.statusShown = true;
        this.output.write(
          `\r\x1b[Kbatches ${this.batches} | input ${round(inputRate)} rec/s | processing ${ms(info.processingDelay)} | scheduling delay ${ms(info.schedulingDelay)} | records in ${this.recordsIn} out ${this.recordsOut}${this.partitions === undefined ? "" : ` | partitions ${this.partitions.join(", ") || "none"}`}${this.address === undefined ? "" : ` | ${this.address}`}`,
        );
        return;
    }
  }

  /**
   * Tells where the web UI (or only /metrics) is served: once now, and on the status line with
   * every batch.
   */
  showAddress(url: string, metricsOnly: boolean): void {
    this.address = metricsOnly ? `metrics ${url}metrics` : `UI ${url}`;
    if (this.mode === "json") {
      this.output.write(
        `${JSON.stringify({ event: metricsOnly ? "metrics" : "ui", url: metricsOnly ? `${url}metrics` : url })}\n`,
      );
      return;
    }
    this.note(metricsOnly ? `metrics at ${url}metrics` : `UI at ${url} (metrics at ${url}metrics)`);
  }

  /**
   * In cluster mode: the input partitions the group gave this process, shown with every batch
   * from now on (each rebalance calls this again).
   *
   * @example
   * cluster.onPartitions((partitions) => reporter.showPartitions(partitions));
   */
  showPartitions(partitions: readonly string[]): void {
    this.partitions = [...partitions];
  }

  /**
   * Shows a message (a source's error) on a line of its own, keeping the status line; secrets in
   * it (a URL's user-info, a PEM block, a value from a reference) are redacted.
   *
   * @example
   * reporter.note("source kafka#0: connect amqp://app:pw@broker failed"); // amqp://[redacted]@broker
   */
  note(text: string): void {
    // A connector's error may quote the URL or the credentials it was given.
    const message = redactText(text);
    if (this.mode === "json") {
      this.output.write(`${JSON.stringify({ event: "note", message })}\n`);
      return;
    }
    this.output.write(`${this.statusShown ? "\r\x1b[K" : ""}${message}\n`);
  }

  /** Ends the status line so later output starts on a fresh line. */
  finish(): void {
    if (this.statusShown) this.output.write("\n");
    this.statusShown = false;
  }

  /** What was processed so far. */
  totals(): ProgressTotals {
    return {
      batches: this.batches,
      recordsIn: this.recordsIn,
      recordsOut: this.recordsOut,
      lastProcessingMs: this.lastProcessingMs,
      lastSchedulingDelayMs: this.lastSchedulingDelayMs,
    };
  }
}

function ms(value: number | undefined): string {
  return value === undefined ? "-" : `${Math.round(value)}ms`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
