import type { StreamingListener } from "../scheduler/listener.js";
import type { ObservedJob } from "./job-observer.js";
import type { ResolvedUiOptions } from "./ui-options.js";

/** A listener event's name, as `StreamingListener` names its methods. */
export type ListenerEventName = keyof StreamingListener;

/** The argument a listener method receives for the event `N`. */
export type ListenerEventOf<N extends ListenerEventName> = Parameters<
  NonNullable<StreamingListener[N]>
>[0];

/** One listener event, copied to the UI's worker thread. */
export type ListenerEventMessage = {
  readonly [N in ListenerEventName]: {
    readonly type: "event";
    readonly name: N;
    readonly info: ListenerEventOf<N>;
  };
}[ListenerEventName];

/** What the job's main thread sends the UI's worker thread. */
export type ToUiWorker =
  | ListenerEventMessage
  /** The job's description changed (a checkpoint folder given after the UI started). */
  | { readonly type: "job"; readonly job: ObservedJob }
  /** The main thread's process metrics, sampled after a batch. */
  | { readonly type: "processMetrics"; readonly text: string }
  /** Asks for the `/metrics` text, answered by `metricsText` with the same id. */
  | { readonly type: "metricsRequest"; readonly id: number }
  /** Stop serving; answered by `closed`. */
  | { readonly type: "close" };

/** What the UI's worker thread answers. */
export type FromUiWorker =
  | { readonly type: "listening"; readonly url: string }
  | { readonly type: "failed"; readonly code: string | undefined; readonly message: string }
  | { readonly type: "metricsText"; readonly id: number; readonly text: string }
  /** A request the server could not answer: the error's stack, redacted by the main thread. */
  | { readonly type: "requestFailed"; readonly error: string }
  | { readonly type: "closed" };

/** What the worker starts from (its `workerData`). */
export interface UiWorkerData {
  readonly options: ResolvedUiOptions;
  readonly job: ObservedJob;
  /** The main thread's process metrics when the UI started, so the first scrape has them. */
  readonly processMetrics: string;
  /** tsx's ESM API to register before importing the worker's TypeScript entry; else undefined. */
  readonly tsx: string | undefined;
  /** The tsconfig tsx resolves with. */
  readonly tsconfig: string | undefined;
  /** The worker's entry module (file URL). */
  readonly entry: string;
}
