// The job the socketTextStream chaos test kills and restarts: the lines a TCP server sends, read
// with ctx.socketTextStream under StreamingContext.getOrCreate and written unchanged by the file
// sink (one file per batch and partition, so a replayed batch overwrites its own files). While
// the hold file exists a batch's outputs wait, so the test can kill the job with lines it has
// received and cut into batches but not yet written. Settings come as JSON in SOCKET_LINES_JOB;
// progress goes to stdout as lines.
import { existsSync } from "node:fs";
import { StreamingContext } from "sluice";
import { FaultInjectingFileSystem } from "sluice/testing";
import type { CrashSettings } from "./word-count-settings.js";

/** What the test tells the job. */
export interface SocketLinesJobSettings {
  readonly checkpoint: string;
  readonly host: string;
  readonly port: number;
  readonly batchIntervalMs: number;
  /** The folder the file sink writes the lines to. */
  readonly output: string;
  /** While this file exists, every batch's outputs wait (forever). */
  readonly holdFile: string;
  /** Kill the job inside a step of its checkpoint or log writes (default: no such crash). */
  readonly crash?: CrashSettings;
}

const settings = JSON.parse(process.env.SOCKET_LINES_JOB ?? "{}") as SocketLinesJobSettings;

function build(): StreamingContext {
  const ctx = new StreamingContext({
    batchInterval: settings.batchIntervalMs,
    appName: "chaos-socket-lines",
    defaultParallelism: 2,
  });
  const lines = ctx.socketTextStream(settings.host, settings.port, {
    restartDelayMs: 50,
    id: "lines",
  });
  // Registered before the sink, so a held batch writes nothing.
  lines.foreachBatch(async () => {
    if (existsSync(settings.holdFile)) await new Promise<never>(() => {});
  });
  lines.sink("file", { directory: settings.output, prefix: "lines" }, { id: "lines-out" });
  return ctx;
}

/** The real file system, or one that kills this process right after the step `crash` names. */
function checkpointFileSystem(): { fileSystem?: FaultInjectingFileSystem } {
  const crash = settings.crash;
  if (crash === undefined) return {};
  const fileSystem = new FaultInjectingFileSystem();
  fileSystem.crashAfter(crash, () => {
    process.stdout.write(`crashing after ${crash.step} ${crash.path ?? ""}\n`);
    process.kill(process.pid, "SIGKILL");
  });
  return { fileSystem };
}

const ctx = await StreamingContext.getOrCreate(settings.checkpoint, build, checkpointFileSystem());
ctx.stopOnSignals({ timeout: "20s" });
ctx.addListener({
  // A submitted batch holds lines the job received: they are its batch record's (or log's).
  onBatchSubmitted: (info) =>
    process.stdout.write(`submitted ${info.batchTime} ${info.numRecords}\n`),
  onBatchCompleted: (info) =>
    process.stdout.write(`completed ${info.batchTime} ${info.numRecords}\n`),
});
try {
  await ctx.start();
  process.stdout.write(`started ${JSON.stringify(ctx.recoveryReport ?? null)}\n`);
  await ctx.awaitTermination();
} catch (error) {
  process.stderr.write(
    `job failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
}
