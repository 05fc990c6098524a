import type { StreamingListener } from "../scheduler/listener.js";
import { registerSecretValue } from "../util/secret-values.js";
import type { ObservedJob } from "./job-observer.js";
import { ProcessMetrics } from "./process-metrics.js";
import { observedJobOf, UiBridge } from "./ui-bridge.js";
import { resolveUiOptions, type UiOptions } from "./ui-options.js";
import type { MetricsText } from "./ui-server.js";
import { UiThread } from "./ui-thread.js";

/** What the UI watches: a job's description and its listeners (a `StreamingContext`). */
export interface UiSubject extends ObservedJob {
  addListener(listener: StreamingListener): void;
  removeListener(listener: StreamingListener): void;
}

/** A running UI server; `close()` stops it. */
export interface UiHandle {
  /** Where the UI listens, such as `http://127.0.0.1:4040/` (`metrics` appended for Prometheus). */
  readonly url: string;
  /** The job's metrics, as served at `/metrics` (asked of the UI's thread). */
  readonly metrics: MetricsText;
  /** Stops serving and stops listening to the job. */
  close(): Promise<void>;
}

/**
 * Serves a job's live web UI and its Prometheus `/metrics` (only `/metrics` with
 * `metricsOnly`) from a worker thread, so a batch that holds the job's thread does not hold the
 * answers. Call it before `ctx.start()` so the UI sees the first batch. Off loopback, a `token`
 * is required: without one this throws `SLUICE_UI_TOKEN_REQUIRED` and nothing listens. The
 * server never keeps the process alive on its own.
 *
 * @example
 * const ui = await startUi(ctx, { port: 4040 });
 * console.error(`UI at ${ui.url}`);
 * await ctx.start();
 */
export async function startUi(ctx: UiSubject, options: UiOptions): Promise<UiHandle> {
  const resolved = resolveUiOptions(options);
  // Whoever started the UI (the CLI, the context's `ui` option, a script), its token is a
  // secret from now on: never in a log line or an error.
  if (resolved.token !== undefined) registerSecretValue(resolved.token);
  const processMetrics = new ProcessMetrics(ctx.appName);
  const thread = new UiThread(resolved, observedJobOf(ctx), await processMetrics.text());
  const bridge = new UiBridge(ctx, (message) => thread.post(message), processMetrics);
  ctx.addListener(bridge);
  let url: string;
  try {
    url = await thread.listening;
  } catch (error) {
    ctx.removeListener(bridge);
    await thread.close();
    throw error;
  }
  return {
    url,
    metrics: thread.metrics,
    close: async () => {
      ctx.removeListener(bridge);
      await thread.close();
    },
  };
}
