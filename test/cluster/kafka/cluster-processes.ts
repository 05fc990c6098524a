// Starts and watches the processes of a cluster test: each runs the cluster word count
// (word-count-job.ts) as its own OS process, the way a deployment does.
import { fileURLToPath } from "node:url";
import { type ChaosJobModule, JobProcess } from "../../chaos/job-process.js";
import { type ClusterJobSettings, SETTINGS_VARIABLE } from "./settings.js";

const WORD_COUNT: ChaosJobModule = {
  path: fileURLToPath(new URL("./word-count-job.ts", import.meta.url)),
  settingsVariable: SETTINGS_VARIABLE,
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
