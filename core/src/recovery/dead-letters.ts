import type { Logger } from "pino";
import type { DeadLetter } from "../connector/dead-letter.js";
import type { SinkPlugin } from "../connector/plugin.js";
import type { SinkRecord } from "../connector/records.js";
import { withWriter } from "../connector/sink.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { ContextConnectors } from "../plugins/context-connectors.js";
import { pluginName } from "../plugins/context-connectors.js";
import { SinkSession } from "../plugins/sink-session.js";
import type { ListenerBus } from "../scheduler/listener-bus.js";
import { formatRecord } from "../util/format-record.js";
import { redactText } from "../util/redact-text.js";
import { deadLetterSinkConfig } from "./dead-letter-config.js";

export type { DeadLetter } from "../connector/dead-letter.js";

/** Options of `ctx.deadLetters(...)`. */
export interface DeadLetterOptions {
  /** The dead-letter sink's id in logs (default `sink:<name>#<n>`). */
  readonly id?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

/**
 * The dead-letter output of a context: records an operation or a sink could not take, captured
 * with the error, the operation, the batch and the source offset, and written to a sink at the
 * end of their batch (before its checkpoint, with an idempotency key of its own, so a replayed
 * batch rewrites them instead of adding copies). The batch then goes on without them.
 *
 * @example
 * const deadLetters = new DeadLetterOutput(ctx.scope, "file", { directory: "dead-letters", format: "jsonl" });
 */
export class DeadLetterOutput {
  readonly #appName: string;
  readonly #writer: () => string | undefined;
  readonly #session: SinkSession;
  readonly #signal: AbortSignal;
  readonly #logger: Logger;
  readonly #listenerBus: ListenerBus;
  readonly #pending = new Map<number | undefined, DeadLetter[]>();
  readonly id: string;

  constructor(
    scope: {
      readonly appName: string;
      outputWriter(): string | undefined;
      readonly connectors: ContextConnectors;
      readonly listenerBus: ListenerBus;
    },
    sink: string | SinkPlugin,
    config: unknown,
    options: DeadLetterOptions = {},
  ) {
    const { registry, signal } = scope.connectors;
    const name = pluginName(registry, sink);
    const instance = registry.createSink(
      name,
      deadLetterSinkConfig(registry.sinkPlugin(name), config),
      options.id === undefined ? {} : { id: options.id },
    );
    this.id = instance.id;
    this.#appName = scope.appName;
    this.#writer = () => scope.outputWriter();
    this.#listenerBus = scope.listenerBus;
    this.#signal = signal;
    this.#logger = registry.logger.child({ connector: instance.id });
    this.#session = new SinkSession(instance.connector, {
      logger: this.#logger,
      retriesEnd: scope.connectors.retriesEnd,
      waitsEnd: scope.connectors.waitsEnd,
    });
  }

  /**
   * Keeps a failed record for the end of its batch.
   *
   * @example
   * deadLetters.capture(deadLetterOf(record, error, "map", 3000));
   */
  capture(letter: DeadLetter): void {
    const letters = this.#pending.get(letter.batchTime) ?? [];
    letters.push(letter);
    this.#pending.set(letter.batchTime, letters);
    this.#logger.warn(
      {
        operation: letter.operation,
        batchTime: letter.batchTime,
        source: letter.source,
        err: letter.error,
      },
      "a record failed and went to the dead-letter sink",
    );
  }

  /**
   * Writes the dead letters of the batch at `time` (called once its outputs ran).
   *
   * @example
   * await deadLetters.flush(3000);
   */
  async flush(time: number): Promise<void> {
    const letters = [
      ...(this.#pending.get(time) ?? []),
      // Failures outside any batch's outputs (none known) go with the next batch written.
      ...(this.#pending.get(undefined) ?? []),
    ];
    this.#pending.delete(time);
    this.#pending.delete(undefined);
    if (letters.length === 0) return;
    const records: SinkRecord[] = letters.map((letter) => ({
      value: encoder.encode(JSON.stringify(letter)),
    }));
    await this.#session.write(
      records,
      withWriter(
        {
          batchTime: time,
          partition: 0,
          idempotencyKey: `${this.#appName}/${time}/dead-letters/0`,
        },
        this.#writer(),
      ),
      this.#signal,
    );
    this.#listenerBus.post("onDeadLetters", { batchTime: time, records: records.length });
  }
}

/**
 * A dead letter for `record`, which `operation` failed on with `error` in the batch at `time`.
 * The error's message is redacted (it is written to the dead-letter sink and logged, and a sink's
 * or a job's error may quote a URL or a secret); the record is kept as it is.
 *
 * @example
 * deadLetterOf(record, new Error("bad JSON"), "map", 3000);
 */
export function deadLetterOf(
  record: unknown,
  error: unknown,
  operation: string,
  time: number | undefined,
): DeadLetter {
  const source = sourcePositionOf(record);
  return {
    batchTime: time,
    operation,
    error: redactText(error instanceof Error ? error.message : String(error)),
    errorCode:
      (error as { code?: unknown } | null)?.code === undefined
        ? undefined
        : String((error as { code: unknown }).code),
    source,
    record:
      source !== undefined || isSinkRecord(record)
        ? decoder.decode((record as SinkRecord).value)
        : formatRecord(record),
  };
}

/**
 * Where a record came from, when it is a source record (`partition` and `offset`).
 *
 * @example
 * sourcePositionOf({ value, headers: {}, timestampMs: 0, partition: "a.txt", offset: "12" });
 */
export function sourcePositionOf(
  record: unknown,
): { readonly partition: string; readonly offset: string } | undefined {
  if (typeof record !== "object" || record === null) return undefined;
  const { partition, offset, value } = record as Partial<Record<string, unknown>>;
  if (typeof partition === "string" && typeof offset === "string" && value instanceof Uint8Array) {
    return { partition, offset };
  }
  return undefined;
}

function isSinkRecord(record: unknown): boolean {
  return (
    typeof record === "object" &&
    record !== null &&
    (record as { value?: unknown }).value instanceof Uint8Array
  );
}

/**
 * The error a failed record raises without a dead-letter sink: names the operation, the batch
 * and, when known, the source offset.
 *
 * @example
 * throw recordFailure(record, error, "map", 3000);
 */
export function recordFailure(
  record: unknown,
  error: unknown,
  operation: string,
  time: number | undefined,
  attempts: number,
): SluiceError {
  const letter = deadLetterOf(record, error, operation, time);
  const where = [
    time === undefined ? undefined : `in the batch at ${time} ms`,
    letter.source === undefined
      ? undefined
      : `from partition "${letter.source.partition}" at offset ${letter.source.offset}`,
  ]
    .filter((part) => part !== undefined)
    .join(" ");
  const shown = letter.record.length > 200 ? `${letter.record.slice(0, 200)}…` : letter.record;
  return new SluiceError(
    "SLUICE_RECORD_FAILED",
    `${operation} failed on a record${where === "" ? "" : ` ${where}`} (${attempts} attempt${attempts === 1 ? "" : "s"}): ${letter.error}. The record: ${shown}. Fix the function or the data, or send such records to a dead-letter sink with ctx.deadLetters(...)`,
    { cause: error },
  );
}
