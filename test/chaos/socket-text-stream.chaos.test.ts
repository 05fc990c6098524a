// Chaos: a job reading ctx.socketTextStream with a checkpoint folder is killed with SIGKILL while
// the TCP peer (this test) is sending, with lines it received waiting in batches whose outputs
// have not run, and restarted with StreamingContext.getOrCreate. Every line the job had received
// (the lines of the batches it reported as submitted) must be in its outputs exactly once.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JobProcess } from "./job-process.js";
import type { SocketLinesJobSettings } from "./jobs/socket-lines.js";
import { LineFeed, outputCounts } from "./line-feed.js";

const JOB = fileURLToPath(new URL("./jobs/socket-lines.ts", import.meta.url));
const BATCH_MS = 200;
// Generous: two jobs start under tsx on a machine shared with other work.
const DEADLINE_MS = 90_000;

/** The socket-lines job as a process of its own, and what its progress lines say. */
class SocketLinesJob extends JobProcess {
  constructor(settings: SocketLinesJobSettings) {
    super(settings, { path: JOB, settingsVariable: "SOCKET_LINES_JOB" });
  }

  /** Lines in the batches the job reported as `submitted` or `completed`. */
  records(kind: "submitted" | "completed"): number {
    let sum = 0;
    for (const match of this.stdout.matchAll(new RegExp(`^${kind} \\d+ (\\d+)$`, "gm"))) {
      sum += Number(match[1]);
    }
    return sum;
  }

  /** Resolves once `condition()` holds (see `JobProcess.poll`), within the test's deadline. */
  until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
    return this.poll(condition, what, DEADLINE_MS);
  }
}

let root: string;
let feed: LineFeed;
let jobs: SocketLinesJob[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-chaos-socket-"));
  feed = new LineFeed();
  jobs = [];
});

afterEach(async () => {
  for (const job of jobs) job.signal("SIGKILL");
  await Promise.all(jobs.map((job) => job.exited));
  await feed.close();
  await rm(root, { recursive: true, force: true });
});

describe("chaos: socketTextStream with a checkpoint", () => {
  it("a SIGKILL mid-stream loses none of the lines the job had received", async () => {
    const port = await feed.listen();
    const settings: SocketLinesJobSettings = {
      checkpoint: join(root, "checkpoint"),
      host: "127.0.0.1",
      port,
      batchIntervalMs: BATCH_MS,
      output: join(root, "out"),
      holdFile: join(root, "hold"),
    };

    const first = new SocketLinesJob(settings);
    jobs.push(first);
    await first.until(() => first.stdout.includes("started"), "the first start");
    feed.start(10, 20);
    await first.until(() => first.records("completed") >= 100, "100 lines written");
    // From now on batches are cut (lines received, recorded) but not written.
    await writeFile(settings.holdFile, "");
    await first.until(
      () => first.records("submitted") - first.records("completed") >= 200,
      "200 lines received in batches not yet written",
    );
    first.signal("SIGKILL");
    await first.exited;
    // The socket delivers lines in order, so the batches hold lines 1 to `received`.
    const received = first.records("submitted");
    const written = first.records("completed");

    await rm(settings.holdFile);
    // The restarted job's connection is the next one (it may connect before it says "started").
    const connections = feed.sentPerConnection.length;
    const second = new SocketLinesJob(settings);
    jobs.push(second);
    await second.until(() => second.stdout.includes("started"), "the restart");
    // New lines on the new connection, then the feed stops so everything can be written.
    await second.until(
      () => (feed.sentPerConnection[connections]?.length ?? 0) >= 100,
      "100 lines sent to the restarted job",
    );
    feed.stop();
    const afterRestart = feed.sentPerConnection[connections] ?? [];
    const expected = [...Array.from({ length: received }, (_, i) => i + 1), ...afterRestart];
    // Replayed batches and the log's lines run before the new lines' batches: once the new lines
    // are written, so is everything the job can recover.
    await second.until(async () => {
      const counts = await outputCounts(settings.output);
      return afterRestart.every((number) => counts.has(number));
    }, "the lines sent after the restart written");
    second.signal("SIGTERM");
    expect(await second.exited, second.describe()).toEqual({ code: 0, signal: null });

    const counts = await outputCounts(settings.output);
    const missing = expected.filter((number) => !counts.has(number));
    const twice = [...counts].filter(([, count]) => count > 1).map(([number]) => number);
    expect(missing, `received ${received}, written before the kill ${written}`).toEqual([]);
    expect(twice).toEqual([]);
    // Lines sent before the kill but after the last batch were in flight or in the write-ahead
    // log: each is written at most once (checked above), none is required.
    const sentBeforeKill = feed.sentPerConnection[0]?.length ?? 0;
    const recoveredFromLog = [...counts.keys()].filter(
      (number) => number > received && number <= sentBeforeKill,
    ).length;
    console.info(
      `chaos (socketTextStream): ${received} lines received before the kill (${written} written), ${recoveredFromLog} more recovered from the write-ahead log, ${afterRestart.length} after the restart`,
    );
  }, 240_000);
});
