// Starts and watches the processes of a cluster test: each runs the cluster word count
// (word-count-job.ts) as its own OS process, the way a deployment does.
import { fileURLToPath } from "node:url";
import { type ChaosJobModule, JobProcess } from "../../chaos/job-process.js";
import { type ClusterJobSettings, SETTINGS_VARIABLE } from "./settings.js";

const WORD_COUNT: ChaosJobModule = {
  path: fileURLToPath(new URL("./word-count-job.ts", import.meta.url)),
  settingsVariable: SETTINGS_VARIABLE,
  // Rebalances, rollbacks and fenced commits are logged at info: a failure report shows them.
  logLevel: "info",
};

/** The processes of one test, started with the same settings. */
export class ClusterProcesses {
  readonly all: JobProcess[] = [];
  readonly #settings: ClusterJobSettings;

  constructor(settings: ClusterJobSettings) {
    this.#settings = settings;
  }

  /** Starts one more process of the job. */
  add(): JobProcess {
    const process = new JobProcess(this.#settings, WORD_COUNT);
    this.all.push(process);
    return process;
  }

  /** The processes still running. */
  get running(): JobProcess[] {
    return this.all.filter((process) => !process.hasExited);
  }

  /**
   * Each process's state for a failure report: pid, exit, partitions, batches and records
   * completed, and the tail of its log.
   */
  describe(): string {
    return this.all
      .map((process) => {
        const batches = process.batches;
        const records = batches.reduce((sum, batch) => sum + batch.records, 0);
        const exit = process.exitStatus;
        return [
          `=== process ${process.pid ?? "?"}: ${exit === undefined ? "running" : `exited ${exit.code ?? exit.signal}`}, partitions [${partitionsOf(process).join(",")}], ${batches.length} batches, ${records} records`,
          `--- stdout (partitions and non-empty batches):`,
          ...process.stdout
            .split("\n")
            .filter((line) => line !== "" && !/^batch \d+ 0$/.test(line))
            .slice(-30),
          `--- log (tail):`,
          process.stderr.slice(-3000),
        ].join("\n");
      })
      .join("\n");
  }

  /** Kills every process still running (SIGKILL) and waits for them. */
  async killAll(): Promise<void> {
    for (const process of this.all) process.signal("SIGKILL");
    await Promise.all(this.all.map((process) => process.exited));
  }
}

/** The partitions a process owns now, from its last `partitions` line ([] before any). */
export function partitionsOf(process: JobProcess): string[] {
  const lines = [...process.stdout.matchAll(/^partitions (.*)$/gm)];
  const last = lines[lines.length - 1]?.[1];
  return last === undefined || last === "" ? [] : last.split(",");
}

/** True when the running processes own every one of `count` partitions of `topic`, once each. */
export function ownsEachPartitionOnce(
  processes: readonly JobProcess[],
  topic: string,
  count: number,
): boolean {
  const owned = processes.flatMap(partitionsOf).sort();
  const expected = Array.from({ length: count }, (_, index) => `${topic}-${index}`).sort();
  return JSON.stringify(owned) === JSON.stringify(expected);
}
