import { StreamingContext } from "../context/streaming-context.js";
import type { Batch } from "../dstream/batch.js";
import type { DStream } from "../dstream/dstream.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { ToExecutor } from "../execution/messages.js";
import { InputDStream } from "../input/input-dstream.js";
import { ManualClock } from "../scheduler/manual-clock.js";
import { isJobDefinition } from "./define-job.js";
import { graphFingerprint } from "./graph-fingerprint.js";
import { registerJobPlugins } from "./register-job-plugins.js";
import { runJobBuild } from "./run-job-build.js";
import { streamsBuildOf } from "./streams-job.js";

type LoadMessage = Extract<ToExecutor, { type: "load" }>;

/** Stands for a driver's input on an executor: executors never compute inputs. */
class DriverSideInput extends InputDStream<unknown> {
  protected async computeInput(time: number): Promise<Batch<unknown> | undefined> {
    throw new SluiceError(
      "SLUICE_INTERNAL",
      `input ${this.inputId} was asked for its batch at ${time} ms on an executor; inputs are read on the driver`,
    );
  }
}

/**
 * Imports a job's module on an executor and builds its graph on a context of its own (never
 * started), then checks the graph against the driver's. Returns the streams by id.
 *
 * @example
 * const streams = await rebuildJobGraph(loadMessage);
 */
export async function rebuildJobGraph(
  message: LoadMessage,
): Promise<ReadonlyMap<number, DStream<unknown>>> {
  const { job, settings } = message;
  let exported: unknown;
  try {
    const module = (await import(job.module)) as Record<string, unknown>;
    exported = module[job.exportName];
  } catch (error) {
    throw new SluiceError(
      "SLUICE_JOB_LOAD_FAILED",
      `an executor could not import the job module ${job.module}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const ctx = new StreamingContext({
    batchInterval: settings.batchInterval,
    defaultParallelism: settings.defaultParallelism,
    appName: settings.appName,
    clock: new ManualClock(0),
  });
  if (job.kind === "context") {
    if (!isJobDefinition(exported)) throw notAJob(job.module, job.exportName, "defineJob");
    await registerJobPlugins(ctx, exported, job.module, job.plugins ?? []);
    runJobBuild(exported, ctx, job.args);
  } else {
    const build = streamsBuildOf(exported, job.args);
    if (build === undefined) throw notAJob(job.module, job.exportName, "streamsJob");
    const inputs = Array.from({ length: job.inputs }, () => new DriverSideInput(ctx));
    build(...inputs);
  }
  const streams = ctx.scope.streams;
  const here = graphFingerprint(streams);
  here.forEach((entry, index) => {
    if (message.streams[index] !== entry) {
      throw new SluiceError(
        "SLUICE_JOB_MISMATCH",
        `the job ${job.exportName} of ${job.module} built a different graph on an executor: stream ${entry} here, ${message.streams[index] ?? "nothing"} on the driver; build the graph the same way every time (no branches on the environment, the time or random values)`,
      );
    }
  });
  return streams;
}

function notAJob(module: string, exportName: string, maker: string): SluiceError {
  return new SluiceError(
    "SLUICE_JOB_LOAD_FAILED",
    `export "${exportName}" of ${module} is not a job made with ${maker}(...)`,
  );
}
