// Runs a group of broker members (broker-member-job.ts), each its own OS process, and reads what
// they output: the chaos suite's JobProcess starts, watches and kills them.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ChaosJobModule, JobProcess } from "../../chaos/job-process.js";
import { type BrokerMemberSettings, OUTPUT_PREFIX } from "./broker-member-settings.js";

const MEMBER_JOB: ChaosJobModule = {
  path: fileURLToPath(new URL("./broker-member-job.ts", import.meta.url)),
  settingsVariable: "BROKER_MEMBER",
};

/** Starts one member process. */
export function startMember(settings: BrokerMemberSettings): JobProcess {
  return new JobProcess(settings, MEMBER_JOB);
}

/** Records a member process has output so far, by its progress lines (replayed batches included). */
export function processedBy(member: JobProcess): number {
  return member.batches.reduce((sum, batch) => sum + batch.records, 0);
}

/** One output line of a member. */
export interface OutputRow {
  readonly id: string;
  readonly redelivered: boolean;
}

/** Every row a member's file sink wrote so far (finished batch files only). */
export async function readOutput(directory: string): Promise<OutputRow[]> {
  const names = await readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [] as string[];
    throw error;
  });
  const rows: OutputRow[] = [];
  for (const name of names) {
    if (!name.startsWith(`${OUTPUT_PREFIX}-`) || !name.endsWith(".jsonl")) continue;
    const text = await readFile(join(directory, name), "utf8");
    for (const line of text.split("\n")) {
      if (line !== "") rows.push(JSON.parse(line) as OutputRow);
    }
  }
  return rows;
}

/** What a group output, against the ids that were published. */
export interface GroupTally {
  /** Published ids nobody output. */
  readonly lost: number;
  /** Output ids that were never published. */
  readonly unexpected: number;
  /** Output lines beyond the first of their id, over all members. */
  readonly duplicates: number;
  /** Ids output more than once, each with whether any of its copies was marked redelivered. */
  readonly duplicated: { readonly id: string; readonly redeliveredCopy: boolean }[];
  /** Output lines of messages the broker marked redelivered, per member. */
  readonly redelivered: Readonly<Record<string, number>>;
  /** Output lines per member. */
  readonly lines: Readonly<Record<string, number>>;
}

/** Counts the outputs of every member (by name) against the published ids. */
export function tally(
  published: ReadonlySet<string>,
  outputs: Readonly<Record<string, readonly OutputRow[]>>,
): GroupTally {
  const copies = new Map<string, OutputRow[]>();
  const redelivered: Record<string, number> = {};
  const lines: Record<string, number> = {};
  for (const [member, rows] of Object.entries(outputs)) {
    lines[member] = rows.length;
    redelivered[member] = rows.filter((row) => row.redelivered).length;
    for (const row of rows) {
      const seen = copies.get(row.id);
      if (seen === undefined) copies.set(row.id, [row]);
      else seen.push(row);
    }
  }
  let lost = 0;
  for (const id of published) if (!copies.has(id)) lost++;
  let unexpected = 0;
  let duplicates = 0;
  const duplicated: { id: string; redeliveredCopy: boolean }[] = [];
  for (const [id, rows] of copies) {
    if (!published.has(id)) unexpected++;
    if (rows.length > 1) {
      duplicates += rows.length - 1;
      duplicated.push({ id, redeliveredCopy: rows.some((row) => row.redelivered) });
    }
  }
  return { lost, unexpected, duplicates, duplicated, redelivered, lines };
}

/** Ids output by any of `directories` so far. */
export async function outputIds(directories: readonly string[]): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const directory of directories) {
    for (const row of await readOutput(directory)) ids.add(row.id);
  }
  return ids;
}

/**
 * Resolves once `condition()` holds, looking every 100 ms; rejects when one of `running` exits
 * first, or after `timeoutMs` (a bound for a stuck run, never a pace the test relies on), with
 * what `progress()` says in the message.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  running: readonly JobProcess[],
  progress: () => string | Promise<string> = () => "",
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    const exited = running.find((member) => member.hasExited);
    if (exited !== undefined) {
      throw new Error(`a member exited before ${what} (${await progress()})\n${exited.describe()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `no ${what} within ${timeoutMs} ms (${await progress()})\n${running.map((member) => member.describe()).join("\n")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A unique name for this run's topic, queue, group and client ids. */
export function runName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${process.pid}`;
}

/** `count` unique message ids. */
export function messageIds(run: string, count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, index) => `${run}/${from + index}`);
}
