/**
 * The UI's worker thread: it keeps what the pages and `/metrics` show, from the listener events
 * the job's main thread copies to it, and serves them, so requests are answered while a batch
 * holds the main thread. Started by `startUiThread`; not imported anywhere else.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { StreamingListener } from "../scheduler/listener.js";
import { JobObserver, type ObservedJob } from "./job-observer.js";
import { SluiceMetrics } from "./sluice-metrics.js";
import { loadUiAssets } from "./ui-assets.js";
import type { FromUiWorker, ToUiWorker, UiWorkerData } from "./ui-messages.js";
import { UiServer } from "./ui-server.js";

const port = parentPort;
if (port === null) throw new Error("ui-worker.ts runs only as a worker thread");
const data = workerData as UiWorkerData;
const post = (message: FromUiWorker): void => port.postMessage(message);

// The checkpoint folder may be set after the UI started: the observer and the metrics read it
// from this object, which `job` messages update.
let job: ObservedJob = data.job;
const subject: ObservedJob = {
  get appName() {
    return job.appName;
  },
  get batchInterval() {
    return job.batchInterval;
  },
  get master() {
    return job.master;
  },
  get checkpointDirectory() {
    return job.checkpointDirectory;
  },
};
// This thread's own heap and event loop are not the job's: the main thread's are sent instead.
const jobMetrics = new SluiceMetrics(subject, { processMetrics: false });
let processMetrics = data.processMetrics;
const metrics = {
  contentType: jobMetrics.contentType,
  text: async (): Promise<string> => `${await jobMetrics.text()}${processMetrics}`,
};
const observer = data.options.metricsOnly
  ? undefined
  : new JobObserver(subject, data.options.retainedBatches);
const listeners: StreamingListener[] =
  observer === undefined ? [jobMetrics] : [jobMetrics, observer];
let server: UiServer | undefined;

port.on("message", (message: ToUiWorker) => {
  switch (message.type) {
    case "event":
      for (const listener of listeners) {
        const handler = listener[message.name] as ((info: unknown) => void) | undefined;
        handler?.call(listener, message.info);
      }
      return;
    case "job":
      job = message.job;
      return;
    case "processMetrics":
      processMetrics = message.text;
      return;
    case "metricsRequest":
      void metrics.text().then((text) => post({ type: "metricsText", id: message.id, text }));
      return;
    case "close":
      void (server?.close() ?? Promise.resolve()).then(() => post({ type: "closed" }));
      return;
  }
});

try {
  const assets = data.options.metricsOnly ? new Map() : await loadUiAssets();
  server = new UiServer({
    options: data.options,
    metrics,
    observer,
    assets,
    // Reported by the main thread, which knows the secret values to redact (this one does not).
    onRequestError: (error) =>
      post({
        type: "requestFailed",
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
  });
  post({ type: "listening", url: await server.listen() });
} catch (error) {
  const code =
    typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
      ? error.code
      : undefined;
  post({ type: "failed", code, message: error instanceof Error ? error.message : String(error) });
}
