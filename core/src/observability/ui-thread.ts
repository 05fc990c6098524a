import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { Registry } from "prom-client";
import { SluiceError, type SluiceErrorCode } from "../errors/sluice-error.js";
import { redactText } from "../util/redact-text.js";
import type { ObservedJob } from "./job-observer.js";
import type { FromUiWorker, ToUiWorker, UiWorkerData } from "./ui-messages.js";
import type { ResolvedUiOptions } from "./ui-options.js";
import type { MetricsText } from "./ui-server.js";

/**
 * The worker's first script. Run from the TypeScript sources (a checkout, the tests), it
 * registers tsx's hooks in the worker before importing the entry: on Node 20 the hooks of the
 * thread that starts a worker do not reach the worker's module loader.
 */
const BOOTSTRAP_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
(async () => {
  if (workerData.tsx !== undefined) {
    const api = await import(workerData.tsx);
    api.register(workerData.tsconfig === undefined ? {} : { tsconfig: workerData.tsconfig });
  }
  await import(workerData.entry);
})().catch((error) => {
  parentPort.postMessage({
    type: "failed",
    code: error && typeof error.code === "string" ? error.code : undefined,
    message: String((error && error.stack) || error),
  });
});
`;

/**
 * The UI's worker thread as the main thread holds it: started at once, so listener events can be
 * posted to it (they wait in its queue) while its server starts. The thread never keeps the
 * process alive once it listens.
 *
 * @example
 * const thread = new UiThread(resolveUiOptions({ port: 0 }), observedJobOf(ctx), text);
 * const url = await thread.listening; // "http://127.0.0.1:40123/"
 * await thread.close();
 */
export class UiThread {
  /** Where the worker's server listens; rejects with its error (`SLUICE_UI_LISTEN_FAILED`, ...). */
  readonly listening: Promise<string>;
  /** `/metrics` as the worker serves it, asked of the worker. */
  readonly metrics: MetricsText;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  readonly #pending = new Map<
    number,
    { resolve: (text: string) => void; reject: (error: unknown) => void }
  >();
  #nextRequest = 0;
  #ended = false;
  #closed: (() => void) | undefined;

  constructor(options: ResolvedUiOptions, job: ObservedJob, processMetrics: string) {
    const ownExtension = import.meta.url.endsWith(".ts") ? "ts" : "js";
    const entry = new URL(`./ui-worker.${ownExtension}`, import.meta.url);
    const typescript = ownExtension === "ts";
    const data: UiWorkerData = {
      options,
      job,
      processMetrics,
      entry: entry.href,
      tsx: typescript ? tsxEsmApi() : undefined,
      tsconfig: typescript ? nearestTsconfig(entry) : undefined,
    };
    const worker = new Worker(BOOTSTRAP_SOURCE, { eval: true, workerData: data });
    this.#worker = worker;
    this.#exited = new Promise((resolve) =>
      worker.once("exit", () => {
        this.#ended = true;
        for (const request of this.#pending.values()) {
          request.reject(new SluiceError("SLUICE_INTERNAL", "the UI is closed"));
        }
        this.#pending.clear();
        resolve();
      }),
    );
    this.listening = new Promise<string>((resolve, reject) => {
      worker.on("message", (message: FromUiWorker) => {
        switch (message.type) {
          case "listening":
            // The UI must never keep a finished job's process alive.
            worker.unref();
            resolve(message.url);
            return;
          case "failed":
            reject(new SluiceError(errorCode(message.code), message.message));
            void worker.terminate();
            return;
          case "metricsText":
            this.#pending.get(message.id)?.resolve(message.text);
            this.#pending.delete(message.id);
            return;
          case "closed":
            this.#closed?.();
            return;
          case "requestFailed":
            process.emitWarning(`the UI could not answer a request: ${redactText(message.error)}`, {
              code: "SLUICE_UI_REQUEST_FAILED",
            });
            return;
        }
      });
      worker.on("error", (error) => {
        reject(error);
        process.emitWarning(`the UI's thread failed: ${String(error)}`, {
          code: "SLUICE_UI_FAILED",
        });
      });
      void this.#exited.then(() =>
        reject(new SluiceError("SLUICE_INTERNAL", "the UI's thread ended before it listened")),
      );
    });
    this.metrics = {
      contentType: Registry.PROMETHEUS_CONTENT_TYPE,
      text: () => this.#metricsText(),
    };
  }

  /** Sends the worker a message (listener events, process metrics); queued until it reads it. */
  post(message: ToUiWorker): void {
    this.#worker.postMessage(message);
  }

  /** Stops the server (event streams end, connections close) and ends the thread. */
  async close(): Promise<void> {
    // Held open until the server has closed, so a caller that awaits this (and then writes its
    // summary) is not cut short by the process exiting.
    this.#worker.ref();
    const closed = new Promise<void>((resolve) => {
      this.#closed = resolve;
    });
    this.post({ type: "close" });
    await Promise.race([closed, this.#exited]);
    await this.#worker.terminate();
  }

  #metricsText(): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.#ended) {
        reject(new SluiceError("SLUICE_INTERNAL", "the UI is closed"));
        return;
      }
      const id = this.#nextRequest++;
      this.#pending.set(id, { resolve, reject });
      this.post({ type: "metricsRequest", id });
    });
  }
}

// Codes cross the thread as strings; anything that is not one of Sluice's is internal.
function errorCode(code: string | undefined): SluiceErrorCode {
  return code?.startsWith("SLUICE_") ? (code as SluiceErrorCode) : "SLUICE_INTERNAL";
}

/** The file URL of tsx's ESM register API (a dependency of this package). */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve("tsx/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    exports?: Record<string, { import?: { default?: string } }>;
  };
  const relative = manifest.exports?.["./esm/api"]?.import?.default ?? "./dist/esm/api/index.mjs";
  return pathToFileURL(join(dirname(manifestPath), relative)).href;
}

function nearestTsconfig(module: URL): string | undefined {
  let dir = dirname(module.pathname);
  for (;;) {
    const candidate = join(dir, "tsconfig.json");
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
