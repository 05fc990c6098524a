import type { ChannelModel, ConfirmChannel, Message } from "amqplib";
import type { Logger } from "pino";
import {
  abortable,
  BackoffError,
  type ConnectionMetrics,
  ConnectionSlot,
  InvalidRecordError,
  NotConnectedError,
  type Sink,
  type SinkRecord,
  SluiceError,
  templateFunction,
  type WriteBatchContext,
  warnAboutTls,
} from "sluice/connector";
import { explainChannelError } from "./channel-errors.js";
import {
  type AmqpConnect,
  type AmqpOpener,
  amqpConnectSteps,
  type BrokerAddress,
  closeConnection,
  connectionOpener,
} from "./connect.js";
import { amqpHeaders } from "./headers.js";
import type { RabbitMqSinkConfig, RoutingKeyFunction } from "./sink-config.js";

/** The sink's counters; read them with `sink.metrics`. */
export interface RabbitMqSinkMetrics extends ConnectionMetrics {
  /** Messages published and confirmed by the broker. */
  readonly recordsOut: number;
  /** Bytes of their values. */
  readonly bytesOut: number;
  /** Batches written (every message confirmed). */
  readonly batches: number;
  /** Messages the broker returned as unroutable (`mandatory`). */
  readonly returned: number;
  /** Messages the broker refused to take (negative confirms). */
  readonly nacked: number;
}

type Counters = { -readonly [K in keyof RabbitMqSinkMetrics]: number };

interface Link {
  readonly connection: ChannelModel;
  readonly channel: ConfirmChannel;
  readonly broker: BrokerAddress;
  alive: boolean;
  /** Settles when the link dies, with the reason. */
  /** Why the link died: a lost connection, or a refusal of the broker that closed the channel. */
  readonly lost: Promise<NotConnectedError | SluiceError>;
  /** Called for each message the broker returns as unroutable. */
  onReturn: ((message: Message) => void) | undefined;
  /** The broker's max message size, when it closed the channel over a message larger. */
  maxMessageBytes: number | undefined;
}

/**
 * The records of one batch (by idempotency key) the broker confirmed. When a record of the
 * batch was refused, Sluice writes the batch again without it: the records already confirmed
 * are not published a second time.
 */
interface ConfirmedRecords {
  readonly idempotencyKey: string;
  /** How many times each record object was confirmed (a batch may hold one object twice). */
  readonly counts: Map<SinkRecord, number>;
  /**
   * Each record object's positions in the first write of the batch: a record keeps the message
   * id of its first position when the batch is written again without a record before it, so
   * that no two messages of the batch ever share an id.
   */
  readonly positions: Map<SinkRecord, number[]>;
}

/**
 * Publishes records to a RabbitMQ exchange, as persistent messages by default, with a routing
 * key from a template or a function. A batch resolves only once the broker confirmed every
 * message (publisher confirms); a lost connection rejects it with `NotConnectedError`, and
 * Sluice reconnects and publishes the batch again. Each message carries the message id
 * `<idempotencyKey>/<index>`, the same on a replay, so consumers can drop duplicates. A write
 * still waiting for confirms (or for `drain`) when the job stops without draining (`retriesEnd`
 * aborts) gives up with `SLUICE_CONNECTOR_IO` and drops the connection.
 *
 * @example
 * const sink = new RabbitMqSink(config, logger, "sink:rabbitmq#1");
 * await sink.connect(signal);
 * await sink.writeBatch(records, { batchTime, partition: 0, idempotencyKey });
 */
export class RabbitMqSink implements Sink {
  readonly #config: RabbitMqSinkConfig;
  readonly #logger: Logger;
  readonly #open: AmqpOpener;
  readonly #routingKey: RoutingKeyFunction;
  readonly #counters: Counters = {
    recordsOut: 0,
    bytesOut: 0,
    batches: 0,
    returned: 0,
    nacked: 0,
    connects: 0,
    connectionLosses: 0,
    errors: 0,
  };
  readonly #slot = new ConnectionSlot<Link>("the RabbitMQ sink", this.#counters);
  #confirmed: ConfirmedRecords | undefined;
  /** The broker's max message size once a message over it was refused: larger ones are refused here. */
  #maxMessageBytes: number | undefined;

  constructor(
    config: RabbitMqSinkConfig,
    logger: Logger,
    connectorId: string,
    connect?: AmqpConnect,
  ) {
    this.#config = config;
    this.#logger = logger;
    warnAboutTls(config.tls, logger, "RabbitMQ sink");
    this.#open = connectionOpener(config, `sluice ${connectorId}`, connect);
    this.#routingKey = templateFunction(config.routingKey);
  }

  /** A snapshot of the counters. */
  get metrics(): RabbitMqSinkMetrics {
    return { ...this.#counters };
  }

  async connect(signal: AbortSignal): Promise<void> {
    const link = await this.#slot.connect(
      signal,
      amqpConnectSteps(this.#open, signal, (connection, broker) => this.#setUp(connection, broker)),
    );
    if (link === undefined) return;
    this.#logger.info(
      { broker: link.broker.label, exchange: this.#config.exchange },
      "publishing to RabbitMQ",
    );
  }

  async writeBatch(records: readonly SinkRecord[], context: WriteBatchContext): Promise<void> {
    this.#slot.assertOpen();
    const link = this.#slot.require();
    // A write waiting for confirms when the stop comes gives up once the stop's grace is over
    // (`waitsEnd`, else `retriesEnd`; `#publish`); one begun after that still gets its confirms
    // (a first attempt still runs).
    const waitsEnd = context.waitsEnd ?? context.retriesEnd;
    const stopping = waitsEnd?.aborted === false ? waitsEnd : undefined;
    await this.#slot.write(this.#publish(records, context, link, stopping));
  }

  /** Waits for a write in progress, then closes the connection. */
  async close(): Promise<void> {
    await this.#slot.close((link) => closeConnection(link.connection, link.channel));
  }

  async #setUp(connection: ChannelModel, broker: BrokerAddress): Promise<Link> {
    const { exchange, exchangeType } = this.#config;
    const at = `RabbitMQ at ${broker.label}`;
    connection.on("error", (error: Error) => this.#logger.warn({ err: error }, "connection error"));
    connection.on("blocked", (reason: string) =>
      this.#logger.warn(
        { reason, broker: broker.label },
        "RabbitMQ blocked the connection; publishing waits",
      ),
    );
    let channel: ConfirmChannel;
    try {
      channel = await connection.createConfirmChannel();
    } catch (error) {
      throw explainChannelError(error, at, "opening a confirm channel");
    }
    let markLost: (reason: NotConnectedError | SluiceError) => void = () => undefined;
    const link: Link = {
      connection,
      channel,
      broker,
      alive: true,
      lost: new Promise((resolve) => {
        markLost = resolve;
      }),
      onReturn: undefined,
      maxMessageBytes: undefined,
    };
    const onLost = (error?: Error, refusal?: SluiceError) => {
      if (!link.alive) return;
      link.alive = false;
      const failure = new NotConnectedError(
        `Lost the connection to RabbitMQ at ${broker.label} (${error?.message ?? "the connection closed"}); the batch is published again after reconnecting.`,
        { cause: error },
      );
      markLost(refusal ?? failure);
      if (!this.#slot.drop(link, failure)) return;
      this.#logger.warn({ err: error, broker: broker.label }, "lost the RabbitMQ connection");
      void closeConnection(connection);
    };
    connection.on("close", onLost);
    // The broker closes the channel when a publish is not allowed (403: the user may not write
    // to the exchange) or the exchange is gone (404). Publishing again after a reconnect fails
    // the same way, so the batch fails with the refusal instead of being retried for ever.
    let refusal: SluiceError | undefined;
    channel.on("error", (error: Error) => {
      this.#logger.warn({ err: error }, "channel error");
      // A message over the broker's max_message_size: the record is at fault, not the exchange.
      const limit = /larger than configured max size (\d+)/.exec(error.message);
      if (limit !== null) {
        link.maxMessageBytes = Number(limit[1]);
        return;
      }
      const explained = explainChannelError(
        error,
        at,
        `publishing to exchange "${exchange || "(default)"}"`,
        { notFound: "the exchange does not exist (any more): create it, or set exchangeType" },
      );
      if (explained.code === "SLUICE_CONNECTOR_REFUSED") refusal = explained;
    });
    channel.on("close", () => onLost(new Error("the channel closed"), refusal));
    channel.on("return", (message: Message) => link.onReturn?.(message));
    if (exchange !== "") {
      try {
        if (exchangeType === undefined) await channel.checkExchange(exchange);
        else await channel.assertExchange(exchange, exchangeType, { durable: true });
      } catch (error) {
        throw explainChannelError(
          error,
          at,
          `${exchangeType ? "declaring" : "checking"} exchange "${exchange}"`,
          {
            notFound: "the exchange does not exist: create it, or set exchangeType to declare it",
            mismatch:
              "the exchange exists with another type or durability; set exchangeType to its type",
          },
        );
      }
    }
    return link;
  }

  async #publish(
    records: readonly SinkRecord[],
    context: WriteBatchContext,
    link: Link,
    stopping: AbortSignal | undefined,
  ): Promise<void> {
    const { exchange, persistent, mandatory, contentType } = this.#config;
    const keys = records.map((record, index) => this.#keyOf(record, index, context));
    this.#refuseTooLarge(records, context, this.#maxMessageBytes);
    if (this.#confirmed?.idempotencyKey !== context.idempotencyKey) {
      const positions = new Map<SinkRecord, number[]>();
      for (const [index, record] of records.entries()) {
        positions.set(record, [...(positions.get(record) ?? []), index]);
      }
      this.#confirmed = { idempotencyKey: context.idempotencyKey, counts: new Map(), positions };
    }
    const confirmed = this.#confirmed.counts;
    // What the broker confirmed in an earlier write of this batch is left out of this one.
    const skip = new Map(confirmed);
    const unused = new Map(
      [...this.#confirmed.positions].map(([record, at]): [SinkRecord, number[]] => [
        record,
        [...at],
      ]),
    );
    // Message ids by index in this write, and back: a return names the message by its id.
    const messageIds = records.map((record, index) => {
      const position = unused.get(record)?.shift();
      // A record not in the first write (none is, in practice) gets an id no position takes.
      return `${context.idempotencyKey}/${position ?? `extra-${index}`}`;
    });
    const indexOf = new Map(messageIds.map((id, index) => [id, index]));
    const returned = new Map<number, string>();
    link.onReturn = (message) => {
      const index = indexOf.get(String(message.properties.messageId));
      if (index !== undefined) {
        // A returned message's fields carry the broker's reason, which amqplib's types omit.
        const fields = message.fields as { replyCode?: number; replyText?: string };
        returned.set(index, `${fields.replyCode ?? "?"} ${fields.replyText ?? "unroutable"}`);
      }
    };
    const confirms: Promise<void>[] = [];
    let nacked = 0;
    /** Records of the batch the broker confirmed, in this write or an earlier one. */
    let confirmedNow = 0;
    // The broker's answers can take as long as it likes: a connection it blocked (a memory or
    // disk alarm) neither drains nor confirms until the alarm clears, and one it keeps open
    // without answering is noticed only by the heartbeat (never with heartbeatSeconds: 0). A
    // stop without draining does not wait for them.
    const waitFor = <T>(answer: Promise<T>): Promise<T> =>
      stopping === undefined ? answer : abortable(answer, stopping);
    try {
      for (const [index, record] of records.entries()) {
        const skipped = skip.get(record) ?? 0;
        if (skipped > 0) {
          skip.set(record, skipped - 1);
          confirmedNow++;
          continue;
        }
        const content = Buffer.from(
          record.value.buffer,
          record.value.byteOffset,
          record.value.byteLength,
        );
        const options = {
          persistent,
          mandatory,
          messageId: messageIds[index] ?? `${context.idempotencyKey}/${index}`,
          headers: amqpHeaders(record.headers),
          ...(record.timestampMs === undefined
            ? {}
            : { timestamp: Math.floor(record.timestampMs / 1000) }),
          ...(contentType === undefined ? {} : { contentType }),
        };
        let confirm: (error: unknown) => void = () => undefined;
        confirms.push(
          new Promise<void>((resolve, reject) => {
            confirm = (error) =>
              error === null || error === undefined ? resolve() : reject(error);
          }),
        );
        let flowing: boolean;
        try {
          flowing = link.channel.publish(exchange, keys[index] ?? "", content, options, (error) => {
            // amqplib reports a negative confirm as "message nacked", a closed channel otherwise.
            if (error instanceof Error && error.message === "message nacked") nacked++;
            // A returned message is confirmed too, after its return: it reached no queue.
            if ((error === null || error === undefined) && !returned.has(index)) {
              confirmed.set(record, (confirmed.get(record) ?? 0) + 1);
            }
            if (error === null || error === undefined) confirmedNow++;
            confirm(error);
          });
        } catch (error) {
          confirm(error);
          if (error instanceof RangeError) {
            throw invalidRecord(index, context, `it cannot be encoded: ${error.message}`, error);
          }
          throw error;
        }
        // The channel's buffer is full: wait until it drains (or the link dies) before going on.
        if (!flowing) await waitFor(Promise.race([onceDrained(link.channel), link.lost]));
        if (!link.alive) break;
      }
      await waitFor(
        Promise.race([Promise.all(confirms), link.lost.then((failure) => Promise.reject(failure))]),
      );
    } catch (error) {
      // Confirms still pending when the batch failed are of no interest any more.
      for (const pending of confirms) pending.catch(() => undefined);
      if (stopping?.aborted === true && error === stopping.reason) {
        throw this.#stoppedWaiting(link, context, records.length - confirmedNow);
      }
      if (link.maxMessageBytes !== undefined) {
        this.#maxMessageBytes = link.maxMessageBytes;
        this.#refuseTooLarge(records, context, link.maxMessageBytes);
      }
      if (!link.alive) throw await link.lost;
      if (nacked > 0) {
        this.#counters.nacked += nacked;
        throw new BackoffError(
          `RabbitMQ at ${link.broker.label} refused ${nacked} message(s) of batch ${context.batchTime} (partition ${context.partition}) with a negative confirm (a full queue with overflow reject-publish, or a broker error); the batch is retried`,
          { cause: error },
        );
      }
      if (isChannelClosed(error)) {
        throw new NotConnectedError(
          `the channel to RabbitMQ at ${link.broker.label} closed during batch ${context.batchTime}; it is published again after reconnecting`,
          { cause: error },
        );
      }
      throw error;
    } finally {
      link.onReturn = undefined;
    }
    if (returned.size > 0) {
      this.#counters.returned += returned.size;
      // The lowest index first, so that Sluice diverts the returned records in batch order.
      const [index, reason] = [...returned.entries()].sort((a, b) => a[0] - b[0])[0] ?? [
        0,
        "unroutable",
      ];
      throw new InvalidRecordError(
        `record ${index} of batch ${context.batchTime} (partition ${context.partition})${returned.size > 1 ? ` and ${returned.size - 1} more were` : " was"} returned by RabbitMQ at ${link.broker.label} as unroutable (${reason}): no queue is bound to exchange "${exchange || "(default)"}" with routing key "${keys[index] ?? ""}". Bind a queue for it, or set mandatory: false to let the broker drop such messages. The other records of the batch were published.`,
        { recordIndex: index },
      );
    }
    this.#confirmed = undefined;
    this.#counters.batches++;
    for (const record of records) {
      this.#counters.recordsOut++;
      this.#counters.bytesOut += record.value.byteLength;
    }
  }

  /**
   * Gives up the connection a write stopped waiting on: what the broker will still confirm
   * there is unknown, so the next write (of a later run, usually) connects afresh.
   */
  #stoppedWaiting(link: Link, context: WriteBatchContext, unconfirmed: number): SluiceError {
    const reason = `the write of batch ${context.batchTime} (partition ${context.partition}) stopped waiting for the broker because the StreamingContext is stopping without draining`;
    link.alive = false;
    this.#slot.drop(link, new NotConnectedError(`${reason}; the sink connects again`));
    void closeConnection(link.connection, link.channel);
    return new SluiceError(
      "SLUICE_CONNECTOR_IO",
      `RabbitMQ at ${link.broker.label}: ${reason}, with ${unconfirmed} message(s) unconfirmed. The batch is not acknowledged; its input is published again on the next run (at least once: the broker may have taken some of its messages, with the same message ids).`,
    );
  }

  /** Refuses the first record larger than the broker's max message size, when it is known. */
  #refuseTooLarge(
    records: readonly SinkRecord[],
    context: WriteBatchContext,
    maxBytes: number | undefined,
  ): void {
    if (maxBytes === undefined) return;
    const index = records.findIndex((record) => record.value.byteLength > maxBytes);
    const record = records[index];
    if (record === undefined) return;
    throw new InvalidRecordError(
      `record ${index} of batch ${context.batchTime} (partition ${context.partition}) is ${record.value.byteLength} bytes, over the max message size of RabbitMQ at ${this.#slot.link?.broker.label ?? "the broker"} (${maxBytes} bytes, its max_message_size setting): make the record smaller or raise max_message_size.`,
      { recordIndex: index },
    );
  }

  #keyOf(record: SinkRecord, index: number, context: WriteBatchContext): string {
    let key: unknown;
    try {
      key = this.#routingKey(record, index);
    } catch (error) {
      throw invalidRecord(
        index,
        context,
        `its routing key: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    }
    if (typeof key !== "string") {
      throw invalidRecord(
        index,
        context,
        `the routing key function returned ${typeof key}, not a string`,
      );
    }
    if (Buffer.byteLength(key) > 255) {
      throw invalidRecord(
        index,
        context,
        `its routing key is ${Buffer.byteLength(key)} bytes; RabbitMQ takes at most 255`,
      );
    }
    return key;
  }
}

function invalidRecord(
  index: number,
  context: WriteBatchContext,
  reason: string,
  cause?: unknown,
): InvalidRecordError {
  return new InvalidRecordError(
    `record ${index} of batch ${context.batchTime} (partition ${context.partition}) has no routing key: ${reason}. Fix the record or the "routingKey" setting; nothing of the batch was published.`,
    { recordIndex: index, cause },
  );
}

function isChannelClosed(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.message === "channel closed" ||
      error.name === "IllegalOperationError" ||
      /Channel (closed|ended)/i.test(error.message))
  );
}

function onceDrained(channel: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => channel.once("drain", () => resolve()));
}
