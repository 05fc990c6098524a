// Chaos on the quiet paths of the write-ahead log with a TCP peer (socketTextStream), which needs
// no broker: a run receives lines, idles until the checkpoints have emptied its log, and is
// killed; the next run receives lines and kills itself right after a step of its first segment
// roll, of the batch record or checkpoint covering logged lines, or of a log truncation. No line
// may be output twice; every line of the runs not killed inside a write must be output, and a
// line the dying run lost can only be one it had not yet logged (a TCP peer does not resend).
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobProcess } from "./job-process.js";
import type { SocketLinesJobSettings } from "./jobs/socket-lines.js";
import type { CrashSettings } from "./jobs/word-count-settings.js";
import { LineFeed, outputCounts } from "./line-feed.js";

const JOB = fileURLToPath(new URL("./jobs/socket-lines.ts", import.meta.url));
const BATCH_MS = 200;
const DEADLINE_MS = 90_000;

/** Where the second run of each pair dies, once the first has let the log go empty. */
const CRASH_POINTS: readonly { readonly name: string; readonly crash: CrashSettings }[] = [
  { name: "segment created, nothing in it", crash: { step: "open", path: "segment-" } },
  { name: "segment header written", crash: { step: "write", path: "segment-" } },
  { name: "log folder synced, no entry yet", crash: { step: "syncDirectory", path: "/wal/" } },
  {
    name: "first entry written, not flushed",
    crash: { step: "write", path: "segment-", occurrence: 2 },
  },
  { name: "first entry flushed", crash: { step: "sync", path: "segment-" } },
  {
    name: "entries logged, batch record being written",
    crash: { step: "open", path: "batch-", after: { step: "sync", path: "segment-" } },
  },
  {
    name: "entries logged, checkpoint being renamed",
    crash: { step: "rename", path: "checkpoint-", after: { step: "sync", path: "segment-" } },
  },
  {
    name: "log truncation after the entries were checkpointed",
    crash: { step: "remove", path: "segment-" },
  },
];

let root: string;
let feed: LineFeed;
const jobs: JobProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-chaos-socket-crash-points-"));
  feed = new LineFeed();
});

afterAll(async () => {
  for (const job of jobs) job.signal("SIGKILL");
  await Promise.all(jobs.map((job) => job.exited));
  await feed.close();
  // CHAOS_KEEP=1 keeps the checkpoints and outputs for inspection.
  if (root !== undefined && process.env.CHAOS_KEEP !== "1") {
    await rm(root, { recursive: true, force: true });
  }
});

describe("chaos: socketTextStream killed inside the write-ahead log's multi-step writes", () => {
  it(`no line twice, none of a run not killed inside a write lost (${CRASH_POINTS.length} crash points)`, async () => {
    const port = await feed.listen();
    const output = join(root, "out");
    const checkpoint = join(root, "state");
    const base: SocketLinesJobSettings = {
      checkpoint,
      host: "127.0.0.1",
      port,
      batchIntervalMs: BATCH_MS,
      output,
      // Never created: no batch waits.
      holdFile: join(root, "no-hold"),
    };
    const start = (crash?: CrashSettings): JobProcess => {
      const job = new JobProcess(crash === undefined ? base : { ...base, crash }, {
        path: JOB,
        settingsVariable: "SOCKET_LINES_JOB",
      });
      jobs.push(job);
      return job;
    };
    const logSegments = async () =>
      (await readdir(join(checkpoint, "wal", "lines")).catch(() => [] as string[])).filter((name) =>
        name.endsWith(".wal"),
      );
    /** The lines sent on connections `from` and later. */
    const sentSince = (from: number): number[] => feed.sentPerConnection.slice(from).flat();
    const allOutput = async (lines: readonly number[]) => {
      const counts = await outputCounts(output);
      return lines.every((line) => (counts.get(line) ?? 0) > 0);
    };
    /** Sends lines until `count` more went out, then stops sending. */
    const send = async (job: JobProcess, count: number, what: string) => {
      const before = feed.sentPerConnection.flat().length;
      feed.start(5, 20);
      await job.poll(
        () => feed.sentPerConnection.flat().length >= before + count,
        what,
        DEADLINE_MS,
      );
      feed.stop();
    };
    /**
     * Starts a run and waits until it is connected (its source connects after `start()`
     * resolves); returns the run and the index of its connection in `sentPerConnection`.
     */
    const connected = async (crash: CrashSettings | undefined, what: string) => {
      const connection = feed.sentPerConnection.length;
      const job = start(crash);
      await job.waitFor((out) => out.startsWith("started"), `${what}: start`, DEADLINE_MS);
      await job.poll(
        () => feed.sentPerConnection.length > connection,
        `${what}: connection`,
        DEADLINE_MS,
      );
      return { job, connection };
    };
    /** Connections whose every line must be output: the runs not killed inside a write. */
    const complete: number[] = [];

    for (const point of CRASH_POINTS) {
      const where = point.name;
      // Lines arrive and are output; the run idles until checkpoints emptied its log.
      const { job: quiet, connection: first } = await connected(undefined, where);
      await send(quiet, 40, `${where}: lines sent`);
      await quiet.poll(() => allOutput(sentSince(first)), `${where}: lines output`, DEADLINE_MS);
      await quiet.poll(
        async () => (await logSegments()).length === 0,
        `${where}: empty log`,
        DEADLINE_MS,
      );
      complete.push(...sentSince(first));
      quiet.signal("SIGKILL");
      expect((await quiet.exited).signal, where).toBe("SIGKILL");

      // The next run receives lines and dies right after the step under test.
      const { job: dying } = await connected(point.crash, where);
      // A burst, then quiet: the log empties (and is truncated) only once lines stop coming.
      await send(dying, 40, `${where}: lines sent`).catch(() => feed.stop());
      await dying.poll(() => false, `${where}: the crash`, 30_000).catch(() => undefined);
      dying.signal("SIGTERM"); // a run that never reached the step: its exit says so below
      const exit = await dying.exited;
      console.info(`crash point "${where}": ${JSON.stringify(exit)}`);
      expect(exit.signal, `${where}: the job killed itself there\n${dying.describe()}`).toBe(
        "SIGKILL",
      );
      expect(dying.stdout, where).toContain(`crashing after ${point.crash.step}`);
    }

    const { job: last, connection: first } = await connected(undefined, "the last run");
    await send(last, 40, "the last lines sent");
    await last.poll(() => allOutput(sentSince(first)), "the last lines output", DEADLINE_MS);
    complete.push(...sentSince(first));
    last.signal("SIGTERM");
    expect((await last.exited).code, last.describe()).toBe(0);

    const counts = await outputCounts(output);
    const sent = new Set(feed.sentPerConnection.flat());
    const twice = [...counts].filter(([, times]) => times > 1).map(([line]) => line);
    const neverSent = [...counts.keys()].filter((line) => !sent.has(line));
    const lost = complete.filter((line) => !counts.has(line));
    expect({ twice, neverSent, lost }).toEqual({ twice: [], neverSent: [], lost: [] });
    console.info(
      `chaos (socket crash points): ${CRASH_POINTS.length} crashes, ${sent.size} lines sent, ${counts.size} output, ${complete.length} from runs not killed inside a write`,
    );
  }, 900_000);
});
