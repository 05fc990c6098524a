import type { ChannelModel, ConfirmChannel, Message } from "amqplib";
import type { Logger } from "pino";
import {
  BackoffError,
  type ConnectionMetrics,
  ConnectionSlot,
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
}

/**
 * Publishes records to a RabbitMQ exchange, as persistent messages by default, with a routing
 * key from a template or a function. A batch resolves only once the broker confirmed every
 * message (publisher confirms); a lost connection rejects it with `NotConnectedError`, and
 * Sluice reconnects and publishes the batch again. Each message carries the message id
 * `<idempotencyKey>/<index>`, the same on a replay, so consumers can drop duplicates.
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
    await this.#slot.write(this.#publish(records, context, link));
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
  ): Promise<void> {
    const { exchange, persistent, mandatory, contentType } = this.#config;
    const keys = records.map((record, index) => this.#keyOf(record, index, context));
    const returned = new Map<string, string>();
    link.onReturn = (message) => {
      const id = message.properties.messageId;
      if (typeof id === "string") {
        // A returned message's fields carry the broker's reason, which amqplib's types omit.
        const fields = message.fields as { replyCode?: number; replyText?: string };
        returned.set(id, `${fields.replyCode ?? "?"} ${fields.replyText ?? "unroutable"}`);
      }
    };
    const confirms: Promise<void>[] = [];
    let nacked = 0;
    try {
      for (const [index, record] of records.entries()) {
        const content = Buffer.from(
          record.value.buffer,
          record.value.byteOffset,
          record.value.byteLength,
        );
        const options = {
          persistent,
          mandatory,
          messageId: `${context.idempotencyKey}/${index}`,
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
        if (!flowing) await Promise.race([onceDrained(link.channel), link.lost]);
        if (!link.alive) break;
      }
      await Promise.race([
        Promise.all(confirms),
        link.lost.then((failure) => Promise.reject(failure)),
      ]);
    } catch (error) {
      // Confirms still pending when the batch failed are of no interest any more.
      for (const pending of confirms) pending.catch(() => undefined);
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
      const first = [...returned.entries()][0];
      const index = Number(first?.[0].split("/").at(-1));
      throw new SluiceError(
        "SLUICE_INVALID_RECORD",
        `record ${index} of batch ${context.batchTime} (partition ${context.partition}) and ${returned.size - 1} more were returned by RabbitMQ at ${link.broker.label} as unroutable (${first?.[1]}): no queue is bound to exchange "${exchange || "(default)"}" with routing key "${keys[index] ?? ""}". Bind a queue for it, or set mandatory: false to let the broker drop such messages.`,
      );
    }
    this.#counters.batches++;
    for (const record of records) {
      this.#counters.recordsOut++;
      this.#counters.bytesOut += record.value.byteLength;
    }
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
): SluiceError {
  return new SluiceError(
    "SLUICE_INVALID_RECORD",
    `record ${index} of batch ${context.batchTime} (partition ${context.partition}) has no routing key: ${reason}. Fix the record or the "routingKey" setting; nothing of the batch was published.`,
    { cause },
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
