import type { BatchInfo, InputRateInfo, ReceiverInfo } from "../scheduler/listener.js";
import { redactText } from "../util/redact-text.js";

/** One input as the UI's sources table shows it (plain data, sent to the browser as JSON). */
export interface SourceStatus {
  readonly inputId: number;
  /** The connector's id (`source:kafka#0`), or `input-<id>` for inputs without one. */
  readonly name: string;
  /** Whether the source is connected (receivers: started and not stopped). */
  readonly active: boolean | undefined;
  readonly totalRecords: number;
  /** Records per second of the last completed batch. */
  readonly recordsPerSecond: number;
  /** Records received and not yet processed (flow control's queue). */
  readonly queuedRecords: number | undefined;
  readonly paused: "rate" | "queue" | undefined;
  /** Records per second flow control allows now; undefined without a limit. */
  readonly rateLimit: number | undefined;
  readonly backpressure: boolean | undefined;
  /** Each partition's share of the next batch's allowance, for sources that report a backlog. */
  readonly recordsPerPartition: Readonly<Record<string, number>> | undefined;
  /** Records waiting per partition, for sources that report a backlog (Kafka's lag). */
  readonly backlog: Readonly<Record<string, number>> | undefined;
  /** Times the source connected again after it had been connected. */
  readonly reconnects: number;
  readonly errors: number;
  readonly lastError: string | undefined;
}

type MutableSourceStatus = { -readonly [K in keyof SourceStatus]: SourceStatus[K] };

/**
 * The inputs of a job as listener events describe them: records per batch, flow control's state,
 * connections and errors.
 *
 * @example
 * const sources = new SourceStatuses(1000);
 * sources.batchCompleted(info);
 * sources.all()[0]?.totalRecords;
 */
export class SourceStatuses {
  readonly #byId = new Map<number, MutableSourceStatus>();
  readonly #starts = new Map<number, number>();

  constructor(private readonly batchIntervalMs: number) {}

  /** The name an input is known by, as metrics label it. */
  nameOf(inputId: number): string {
    return this.#byId.get(inputId)?.name ?? `input-${inputId}`;
  }

  /** Counts a completed batch's records per input. */
  batchCompleted(info: BatchInfo): void {
    for (const [inputId, input] of info.streamIdToInputInfo) {
      const status = this.#entry(inputId);
      status.totalRecords += input.numRecords;
      status.recordsPerSecond = (input.numRecords * 1000) / this.batchIntervalMs;
    }
  }

  /** Takes flow control's state of a connector source. */
  inputRate(info: InputRateInfo): void {
    const status = this.#entry(info.streamId, info.name);
    status.queuedRecords = info.queuedRecords;
    status.paused = info.paused;
    status.rateLimit = info.rateLimit;
    status.backpressure = info.backpressure;
    status.recordsPerPartition =
      info.recordsPerPartition === undefined
        ? undefined
        : Object.fromEntries(info.recordsPerPartition);
    status.backlog = info.backlog === undefined ? undefined : Object.fromEntries(info.backlog);
  }

  /** A receiver (or connector source) started, stopped or reported an error. */
  receiver(event: "started" | "stopped" | "error", info: ReceiverInfo): void {
    const status = this.#entry(info.streamId, info.name);
    status.active = info.active;
    if (event === "started") {
      const starts = (this.#starts.get(info.streamId) ?? 0) + 1;
      this.#starts.set(info.streamId, starts);
      status.reconnects = starts - 1;
    } else if (event === "error") {
      status.errors++;
      // Shown on the page and in /api: a connector's error may quote its URL or credentials.
      status.lastError = redactText(info.lastErrorMessage);
    }
  }

  /** Every input seen, by id. */
  all(): SourceStatus[] {
    return [...this.#byId.values()].sort((a, b) => a.inputId - b.inputId).map((s) => ({ ...s }));
  }

  #entry(inputId: number, name?: string): MutableSourceStatus {
    let status = this.#byId.get(inputId);
    if (status === undefined) {
      status = {
        inputId,
        name: name ?? `input-${inputId}`,
        active: undefined,
        totalRecords: 0,
        recordsPerSecond: 0,
        queuedRecords: undefined,
        paused: undefined,
        rateLimit: undefined,
        backpressure: undefined,
        recordsPerPartition: undefined,
        backlog: undefined,
        reconnects: 0,
        errors: 0,
        lastError: undefined,
      };
      this.#byId.set(inputId, status);
    } else if (name !== undefined) {
      status.name = name;
    }
    return status;
  }
}
