import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * prom-client's process metrics (`process_*`, `nodejs_*`) of the thread that builds this, in a
 * registry of their own. The UI samples them on the job's main thread and hands the text to its
 * worker: CPU, memory and file descriptors are the process's from any thread, but heap, event
 * loop lag, GC and handles describe the thread that reads them, and the thread that matters is
 * the one running the batches.
 *
 * @example
 * const process = new ProcessMetrics("word-count");
 * const text = await process.text(); // "# HELP process_cpu_user_seconds_total ..."
 */
export class ProcessMetrics {
  readonly #registry = new Registry();

  constructor(appName: string) {
    this.#registry.setDefaultLabels({ app: appName });
    collectDefaultMetrics({ register: this.#registry });
  }

  /** The metrics now, in Prometheus' text exposition format. */
  text(): Promise<string> {
    return this.#registry.metrics();
  }
}
