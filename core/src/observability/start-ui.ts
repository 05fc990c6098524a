import type { StreamingContext } from "../context/streaming-context.js";
import { JobObserver } from "./job-observer.js";
import { SluiceMetrics } from "./sluice-metrics.js";
import { loadUiAssets, type UiAsset } from "./ui-assets.js";
import { resolveUiOptions, type UiOptions } from "./ui-options.js";
import { UiServer } from "./ui-server.js";

/** A running UI server; `close()` stops it. */
export interface UiHandle {
  /** Where the UI listens, such as `http://127.0.0.1:4040/` (`metrics` appended for Prometheus). */
  readonly url: string;
  /** The job's metrics, also served at `/metrics`. */
  readonly metrics: SluiceMetrics;
  /** Stops serving and stops listening to the job. */
  close(): Promise<void>;
}

/**
 * Serves a job's live web UI and its Prometheus `/metrics` (only `/metrics` with
 * `metricsOnly`). Call it before `ctx.start()` so the UI sees the first batch. Off loopback, a
 * `token` is required: without one this throws `SLUICE_UI_TOKEN_REQUIRED` and nothing listens.
 * The server never keeps the process alive on its own.
 *
 * @example
 * const ui = await startUi(ctx, { port: 4040 });
 * console.error(`UI at ${ui.url}`);
 * await ctx.start();
 */
export async function startUi(ctx: StreamingContext, options: UiOptions): Promise<UiHandle> {
  const resolved = resolveUiOptions(options);
  const metrics = new SluiceMetrics(ctx);
  const observer = resolved.metricsOnly
    ? undefined
    : new JobObserver(ctx, resolved.retainedBatches);
  const assets: ReadonlyMap<string, UiAsset> = resolved.metricsOnly
    ? new Map()
    : await loadUiAssets();
  const server = new UiServer({ options: resolved, metrics, observer, assets });
  ctx.addListener(metrics);
  if (observer !== undefined) ctx.addListener(observer);
  const stopListening = (): void => {
    ctx.removeListener(metrics);
    if (observer !== undefined) ctx.removeListener(observer);
  };
  let url: string;
  try {
    url = await server.listen();
  } catch (error) {
    stopListening();
    await server.close();
    throw error;
  }
  return {
    url,
    metrics,
    close: async () => {
      stopListening();
      await server.close();
    },
  };
}
