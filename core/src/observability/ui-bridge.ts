import type {
  BatchInfo,
  DeadLettersInfo,
  ExecutorsInfo,
  ExecutorsUnavailableInfo,
  InputRateInfo,
  OutputOperationInfo,
  ReceiverInfo,
  StreamingListener,
} from "../scheduler/listener.js";
import { redactText } from "../util/redact-text.js";
import type { ObservedJob } from "./job-observer.js";
import type { ProcessMetrics } from "./process-metrics.js";
import type {
  ListenerEventMessage,
  ListenerEventName,
  ListenerEventOf,
  ToUiWorker,
} from "./ui-messages.js";

/**
 * The main thread's side of the UI: a listener that copies every event to the UI's worker
 * thread, and after each batch samples the main thread's process metrics for it. It does no more
 * than post messages, so the job's thread spends microseconds per event on its UI.
 *
 * @example
 * const bridge = new UiBridge(ctx, (message) => worker.postMessage(message), processMetrics);
 * ctx.addListener(bridge);
 */
export class UiBridge implements StreamingListener {
  readonly #job: ObservedJob;
  readonly #post: (message: ToUiWorker) => void;
  readonly #process: ProcessMetrics;
  #sentCheckpointDirectory: string | undefined;
  #sampling = false;

  constructor(job: ObservedJob, post: (message: ToUiWorker) => void, process: ProcessMetrics) {
    this.#job = job;
    this.#post = post;
    this.#process = process;
    this.#sentCheckpointDirectory = job.checkpointDirectory;
  }

  onStreamingStarted(event: { readonly time: number }): void {
    this.#forward("onStreamingStarted", event);
  }

  onBatchSubmitted(info: BatchInfo): void {
    this.#forward("onBatchSubmitted", info);
  }

  onBatchStarted(info: BatchInfo): void {
    this.#forward("onBatchStarted", info);
  }

  onBatchCompleted(info: BatchInfo): void {
    this.#forward("onBatchCompleted", withRedactedFailures(info));
    this.#sampleProcess();
  }

  onOutputOperationStarted(info: OutputOperationInfo): void {
    this.#forward("onOutputOperationStarted", info);
  }

  onOutputOperationCompleted(info: OutputOperationInfo): void {
    this.#forward("onOutputOperationCompleted", withRedactedFailure(info));
  }

  onExecutorsStarted(info: ExecutorsInfo): void {
    this.#forward("onExecutorsStarted", info);
  }

  onExecutorsUnavailable(info: ExecutorsUnavailableInfo): void {
    this.#forward("onExecutorsUnavailable", info);
  }

  onInputRate(info: InputRateInfo): void {
    this.#forward("onInputRate", info);
  }

  onDeadLetters(info: DeadLettersInfo): void {
    this.#forward("onDeadLetters", info);
  }

  onReceiverStarted(info: ReceiverInfo): void {
    this.#forward("onReceiverStarted", withoutErrorObject(info));
  }

  onReceiverError(info: ReceiverInfo): void {
    this.#forward("onReceiverError", withoutErrorObject(info));
  }

  onReceiverStopped(info: ReceiverInfo): void {
    this.#forward("onReceiverStopped", withoutErrorObject(info));
  }

  #forward<N extends ListenerEventName>(name: N, info: ListenerEventOf<N>): void {
    // `ctx.checkpoint(folder)` may come after the UI started; the worker reads the folder.
    const directory = this.#job.checkpointDirectory;
    if (directory !== this.#sentCheckpointDirectory) {
      this.#sentCheckpointDirectory = directory;
      this.#post({ type: "job", job: observedJobOf(this.#job) });
    }
    this.#post({ type: "event", name, info } as ListenerEventMessage);
  }

  // One sample at a time: a slow render is not queued behind another.
  #sampleProcess(): void {
    if (this.#sampling) return;
    this.#sampling = true;
    void this.#process
      .text()
      .then((text) => this.#post({ type: "processMetrics", text }))
      // A sample that fails leaves the previous one served; the next batch tries again.
      .catch(() => undefined)
      .finally(() => {
        this.#sampling = false;
      });
  }
}

/**
 * The job's description as plain data (a context's getters do not cross to a worker thread).
 *
 * @example
 * observedJobOf(ctx); // { appName: "sluice", batchInterval: 1000, master: undefined, ... }
 */
export function observedJobOf(job: ObservedJob): ObservedJob {
  return {
    appName: job.appName,
    batchInterval: job.batchInterval,
    master: job.master,
    checkpointDirectory: job.checkpointDirectory,
  };
}

// The error itself may hold anything (sockets, functions) that cannot be copied to another
// thread; the UI shows only its message, which `lastErrorMessage` carries.
function withoutErrorObject(info: ReceiverInfo): ReceiverInfo {
  return { ...info, lastError: undefined, lastErrorMessage: redactText(info.lastErrorMessage) };
}

// Error text is redacted before it crosses: the worker knows none of the secret values registered
// in this thread (references' values, the UI's token), only the URL and PEM rules.
function withRedactedFailure(info: OutputOperationInfo): OutputOperationInfo {
  if (info.failureReason === undefined) return info;
  return { ...info, failureReason: redactText(info.failureReason) };
}

function withRedactedFailures(info: BatchInfo): BatchInfo {
  const operations = [...info.outputOperationInfos];
  if (operations.every(([, operation]) => operation.failureReason === undefined)) return info;
  return {
    ...info,
    outputOperationInfos: new Map(
      operations.map(([id, operation]) => [id, withRedactedFailure(operation)]),
    ),
  };
}
