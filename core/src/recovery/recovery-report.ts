/** A name and why it is listed. */
export interface ReportEntry {
  readonly name: string;
  readonly reason: string;
}

/**
 * What a job recovered from its checkpoint, and what it could not (`ctx.recoveryReport` after
 * `StreamingContext.getOrCreate`, also logged as a warning when anything was dropped).
 */
export interface RecoveryReport {
  /** The batch time of the checkpoint used. */
  readonly checkpointTime: number;
  readonly checkpointFile: string;
  /** Newer checkpoint files that were damaged and skipped. */
  readonly skippedCheckpoints: readonly ReportEntry[];
  /** Stateful operators whose state was restored, by name. */
  readonly restoredOperators: readonly string[];
  /** State in the checkpoint that no operator of the job takes (renamed, removed, changed). */
  readonly droppedState: readonly ReportEntry[];
  /** Stateful operators of the job that found no state to restore and start empty. */
  readonly operatorsWithoutState: readonly ReportEntry[];
  /** Sources resumed from the checkpoint (offsets or write-ahead log). */
  readonly resumedInputs: readonly string[];
  /** Sources of the checkpoint that the job no longer has. */
  readonly droppedInputs: readonly string[];
  /** Inputs that cannot replay (queueStream, receiverStream): data they held is lost. */
  readonly unrecoverableInputs: readonly string[];
  /** Batches generated before the crash and run again exactly. */
  readonly replayedBatches: readonly number[];
  /** Replays that could not be reproduced record for record. */
  readonly replayProblems: string[];
}

/**
 * The report as log lines: empty when everything was restored.
 *
 * @example
 * for (const line of reportProblems(report)) logger.warn(line);
 */
export function reportProblems(report: RecoveryReport): string[] {
  const lines: string[] = [];
  for (const { name, reason } of report.skippedCheckpoints)
    lines.push(`skipped checkpoint ${name}: ${reason}`);
  for (const { name, reason } of report.droppedState)
    lines.push(`dropped the state of "${name}": ${reason}`);
  for (const { name, reason } of report.operatorsWithoutState) {
    lines.push(`operator "${name}" starts without state: ${reason}`);
  }
  for (const name of report.droppedInputs) {
    lines.push(`input "${name}" is in the checkpoint but not in the job: its offsets are dropped`);
  }
  for (const name of report.unrecoverableInputs) {
    lines.push(
      `input "${name}" cannot replay: it starts from what the job's create function gives it again, so records it held in batches after the checkpoint are lost, and records of batches the checkpoint covers that the create function queues again are read again (use a connector source: ctx.source(...))`,
    );
  }
  lines.push(...report.replayProblems);
  return lines;
}
