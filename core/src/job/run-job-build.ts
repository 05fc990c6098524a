import type { StreamingContext } from "../context/streaming-context.js";
import { isThenable } from "../dstream/promise-result.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { JobDefinition } from "./define-job.js";

/**
 * Runs a job's build function on `ctx`, refusing one that returns a Promise: `defineJob(async
 * (ctx) => ...)` type-checks, but streams it makes after an `await` would come after the
 * context started (or never), so the job would run without them.
 *
 * @example
 * runJobBuild(exported, ctx, job.args);
 */
export function runJobBuild<Args>(
  job: JobDefinition<Args>,
  ctx: StreamingContext,
  args: Args,
): void {
  const result: unknown = job.build(ctx, args);
  if (!isThenable(result)) return;
  // Its rejection, if any, is this error's business now: not an unhandled rejection later.
  Promise.resolve(result).catch(() => undefined);
  throw new SluiceError(
    "SLUICE_INVALID_ARGUMENT",
    "the job's build function returned a Promise (an async function): build the streams synchronously. Do asynchronous setup before it (a top-level await in the job module) or per batch (transform, foreachBatch, a connector)",
  );
}
