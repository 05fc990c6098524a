import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import type { Logger } from "pino";
import {
  type ConnectionMetrics,
  ConnectionSlot,
  deadConnectionTimeoutMs,
  NotConnectedError,
  PushedReads,
  type ReadOptions,
  type ReadResult,
  readColumnsResult,
  readResult,
  readSize,
  type Source,
  type SourceRecordColumns,
  SourceRecordColumnsBuilder,
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
import { recordHeaders } from "./headers.js";
import type { RabbitMqSourceConfig } from "./source-config.js";

/** The source's counters; read them with `source.metrics`. */
export interface RabbitMqSourceMetrics extends ConnectionMetrics {
  /** Messages the broker delivered to this source (redeliveries included), read or not yet. */
  readonly received: number;
  /** Records handed to Sluice by `read` (redeliveries included). */
  readonly recordsIn: number;
  /** Bytes of their values. */
  readonly bytesIn: number;
  /** Messages acknowledged to the broker (their batch was output). */
  readonly acked: number;
  /** Messages handed back to the queue with a requeue (a failed batch, and messages received after it). */
  readonly requeued: number;
  /** Records the broker marked as redelivered (delivered before, never acknowledged). */
  readonly redelivered: number;
  /**
   * Acks and nacks skipped because the channel their messages came on is gone: the broker has
   * already put those messages back in the queue and delivers them again.
   */
  readonly staleSettles: number;
  /** Received messages not yet read when the connection was lost (the broker redelivers them). */
  readonly discardedOnLoss: number;
  /** Consumers cancelled because flow control paused the source (the broker keeps the rest queued). */
  readonly consumerCancels: number;
  /**
   * Reads that failed (their messages requeued) since the last acknowledged one: a message that
   * fails every time is delivered again and again, and this keeps growing.
   */
  readonly failedReadsInARow: number;
}

type Counters = { -readonly [K in keyof RabbitMqSourceMetrics]: number };

const NO_CONTENT = Buffer.alloc(0);

/** One open connection with its consuming channel. */
interface Link {
  readonly connection: ChannelModel;
  readonly channel: Channel;
  readonly broker: BrokerAddress;
  alive: boolean;
  /** The tag of the consumer the broker delivers to; undefined while none is (paused). */
  consumerTag: string | undefined;
  /** True while `#steer` is starting or cancelling the consumer (one at a time). */
  steering: boolean;
}

/**
 * A message received, with the link it came on (delivery tags mean nothing on another), and
 * what its record gets at receipt: made a record only as a row of a read's byte batch.
 */
interface Delivery {
  /**
   * The message without its content (an empty one): what settling it and making its headers
   * need, kept until the read is settled without keeping the content alive beside its copy in
   * the byte batch.
   */
  readonly message: ConsumeMessage;
  /** The content until a read copies it into its byte batch (never read again: a nack requeues). */
  content: Buffer;
  readonly link: Link;
  /** The broker's timestamp, else when it was received. */
  readonly timestampMs: number;
  /** The record's offset: this source's count of deliveries. */
  readonly offset: number;
}

/**
 * Consumes a RabbitMQ queue. Messages are acknowledged only when Sluice acknowledges the read
 * that returned them (the batch holding them was output); a nack requeues them. After a lost
 * connection, Sluice reconnects with backoff; messages never acknowledged come back from the
 * broker (marked redelivered), and settlements of messages from the dead channel are skipped,
 * never sent on the new one.
 *
 * @example
 * const source = new RabbitMqSource(config, logger, "source:rabbitmq#1");
 * await source.connect(signal);
 * const { records, ack } = await source.read(signal);
 * await ack();
 */
export class RabbitMqSource implements Source {
  readonly #config: RabbitMqSourceConfig;
  readonly #logger: Logger;
  readonly #open: AmqpOpener;
  readonly #counters: Counters = {
    received: 0,
    recordsIn: 0,
    bytesIn: 0,
    acked: 0,
    requeued: 0,
    redelivered: 0,
    staleSettles: 0,
    discardedOnLoss: 0,
    consumerCancels: 0,
    failedReadsInARow: 0,
    connects: 0,
    connectionLosses: 0,
    errors: 0,
  };
  readonly #slot = new ConnectionSlot<Link>("the RabbitMQ source", this.#counters);
  readonly #reads = new PushedReads(this.#slot, () => this.#buffer.length > 0);
  #buffer: Delivery[] = [];
  #sequence = 0;

  constructor(
    config: RabbitMqSourceConfig,
    logger: Logger,
    connectorId: string,
    connect?: AmqpConnect,
  ) {
    this.#config = config;
    this.#logger = logger;
    warnAboutTls(config.tls, logger, "RabbitMQ source");
    this.#open = connectionOpener(config, `sluice ${connectorId}`, connect);
  }

  /** A snapshot of the counters. */
  get metrics(): RabbitMqSourceMetrics {
    return { ...this.#counters };
  }

  async connect(signal: AbortSignal): Promise<void> {
    const link = await this.#slot.connect(
      signal,
      amqpConnectSteps(this.#open, signal, (connection, broker) => this.#setUp(connection, broker)),
    );
    if (link === undefined) return;
    this.#logger.info(
      {
        broker: link.broker.label,
        queue: this.#config.queue.name,
        prefetch: this.#config.prefetch,
      },
      "consuming from RabbitMQ",
    );
    this.#reads.notify();
    // A pause or resume during the set-up found no link to steer: bring the consumer in line now.
    this.#steer(link);
  }

  /**
   * Returns the messages received and not read yet, oldest first: at most `maxRecordsPerRead`
   * and at most `options.maxRecords`. The rest stay here, unacknowledged, for the next reads.
   */
  read(signal: AbortSignal, options?: ReadOptions): Promise<ReadResult> {
    return this.#reads.read(signal, () => this.#take(options?.maxRecords));
  }

  /**
   * How long a dead connection can go unnoticed: two missed AMQP heartbeats (`heartbeatSeconds`), or TCP's
   * timeout when they are off.
   */
  deadConnectionTimeoutMs(): number {
    return deadConnectionTimeoutMs(this.#config.heartbeatSeconds);
  }

  /**
   * Cancels the consumer (`basic.cancel`): the broker stops delivering and keeps the rest in the
   * queue. Messages already delivered stay this source's, unacknowledged, and are read after
   * `resume`; they are acknowledged on the same channel, which a cancel leaves open.
   */
  pause(): void {
    this.#reads.pause();
    const link = this.#slot.link;
    if (link !== undefined) this.#steer(link);
  }

  /** Consumes again, once the messages received before the pause were read. */
  resume(): void {
    this.#reads.resume();
    const link = this.#slot.link;
    if (link !== undefined) this.#steer(link);
  }

  /** Closes the connection without acknowledging anything: the broker requeues what is unacknowledged. */
  async close(): Promise<void> {
    await this.#slot.close(
      (link) => closeConnection(link.connection, link.channel),
      () => {
        this.#buffer = [];
        this.#reads.notify();
      },
    );
  }

  async #setUp(connection: ChannelModel, broker: BrokerAddress): Promise<Link> {
    const { queue, bindings, prefetch } = this.#config;
    const at = `RabbitMQ at ${broker.label}`;
    // Listeners first: an 'error' event without one would crash the process.
    connection.on("error", (error: Error) => this.#logger.warn({ err: error }, "connection error"));
    connection.on("blocked", (reason: string) =>
      this.#logger.warn({ reason, broker: broker.label }, "RabbitMQ blocked the connection"),
    );
    const channel = await step(connection.createChannel(), at, "opening a channel");
    const link: Link = {
      connection,
      channel,
      broker,
      alive: true,
      consumerTag: undefined,
      steering: false,
    };
    connection.on("close", (error?: Error) => this.#lost(link, error));
    channel.on("error", (error: Error) => this.#logger.warn({ err: error }, "channel error"));
    channel.on("close", () => this.#lost(link, new Error("the channel closed")));
    await step(channel.prefetch(prefetch), at, "setting the prefetch");
    if (queue.declare) {
      await step(
        channel.assertQueue(queue.name, {
          durable: queue.durable,
          exclusive: queue.exclusive,
          autoDelete: queue.autoDelete,
          arguments: queue.arguments,
        }),
        at,
        `declaring queue "${queue.name}"`,
        {
          mismatch: `the queue exists with other settings (durable, exclusive, autoDelete, arguments); make "queue" match them or use another name`,
        },
      );
    } else {
      await step(channel.checkQueue(queue.name), at, `checking queue "${queue.name}"`, {
        notFound: `the queue does not exist (queue.declare is false): create it, or set queue.declare to true`,
      });
    }
    for (const binding of bindings) {
      if (binding.exchangeType === undefined) {
        await step(
          channel.checkExchange(binding.exchange),
          at,
          `checking exchange "${binding.exchange}"`,
          {
            notFound: `the exchange does not exist: create it, or set exchangeType in the binding to declare it`,
          },
        );
      } else {
        await step(
          channel.assertExchange(binding.exchange, binding.exchangeType, { durable: true }),
          at,
          `declaring exchange "${binding.exchange}"`,
          {
            mismatch: `the exchange exists with another type or durability; set exchangeType to its type`,
          },
        );
      }
      for (const key of binding.routingKeys) {
        await step(
          channel.bindQueue(queue.name, binding.exchange, key),
          at,
          `binding queue "${queue.name}" to exchange "${binding.exchange}" with "${key}"`,
        );
      }
    }
    if (!this.#reads.paused) await this.#consume(link);
    return link;
  }

  async #consume(link: Link): Promise<void> {
    const { queue } = this.#config;
    const { consumerTag } = await step(
      link.channel.consume(queue.name, (message) => this.#deliver(link, message), {
        noAck: false,
      }),
      `RabbitMQ at ${link.broker.label}`,
      `consuming queue "${queue.name}"`,
      { mismatch: "another connection consumes it exclusively" },
    );
    link.consumerTag = consumerTag;
  }

  /**
   * Brings the consumer in line with flow control, one channel operation at a time: cancelled
   * while paused; started again once resumed and every message received before was read. Only
   * then: RabbitMQ counts the prefetch per consumer, so a new consumer beside unread messages of
   * the old one would let more than `prefetch` pile up here. A failed operation means the channel
   * is in trouble: the link is dropped and Sluice reconnects.
   */
  #steer(link: Link): void {
    if (link.steering || !this.#current(link)) return;
    link.steering = true;
    void (async () => {
      try {
        for (;;) {
          if (!this.#current(link)) return;
          if (link.consumerTag !== undefined && this.#reads.paused) {
            await link.channel.cancel(link.consumerTag);
            link.consumerTag = undefined;
            this.#counters.consumerCancels++;
          } else if (
            link.consumerTag === undefined &&
            !this.#reads.paused &&
            this.#buffer.length === 0
          ) {
            await this.#consume(link);
            this.#reads.notify();
          } else {
            return;
          }
        }
      } catch (error) {
        this.#lost(link, error instanceof Error ? error : new Error(String(error)));
      } finally {
        link.steering = false;
      }
    })();
  }

  #deliver(link: Link, message: ConsumeMessage | null): void {
    if (!link.alive) return;
    if (message === null) {
      // The broker cancelled the consumer (the queue was deleted): reconnecting declares it again.
      this.#lost(
        link,
        new Error(`the broker cancelled the consumer of queue "${this.#config.queue.name}"`),
      );
      return;
    }
    const { fields, properties, content } = message;
    const { timestamp } = properties;
    this.#buffer.push({
      message: { fields, properties, content: NO_CONTENT },
      content,
      link,
      timestampMs: typeof timestamp === "number" ? timestamp * 1000 : Date.now(),
      offset: this.#sequence++,
    });
    this.#counters.received++;
    this.#reads.notify();
  }

  #take(maxRecords: number | undefined): ReadResult {
    const taken = this.#buffer.splice(0, readSize(this.#config.maxRecordsPerRead, maxRecords));
    // Everything received was read: a consumer cancelled for a pause may start again.
    const link = this.#slot.link;
    if (this.#buffer.length === 0 && link !== undefined) this.#steer(link);
    const settle = (error: unknown) =>
      error === undefined ? this.#acknowledge(taken) : this.#requeue(taken);
    if (taken.length === 0) return readResult([], settle);
    // One byte batch: contents and routing keys copied into a blob each, headers made from the
    // messages only when a record is asked for.
    const builder = new SourceRecordColumnsBuilder(recordHeaders);
    const partition = this.#config.queue.name;
    let routingKey: string | undefined;
    let key: Buffer | undefined;
    for (const delivery of taken) {
      const { message, content, timestampMs, offset } = delivery;
      const { fields } = message;
      delivery.content = NO_CONTENT;
      if (fields.routingKey !== routingKey || key === undefined) {
        routingKey = fields.routingKey;
        key = Buffer.from(routingKey);
      }
      builder.add(partition, content, key, timestampMs, offset, message);
      this.#counters.recordsIn++;
      this.#counters.bytesIn += content.byteLength;
      if (fields.redelivered) this.#counters.redelivered++;
    }
    return readColumnsResult(builder.build() as SourceRecordColumns, settle);
  }

  #acknowledge(deliveries: readonly Delivery[]): void {
    if (deliveries.length > 0) this.#counters.failedReadsInARow = 0;
    for (const delivery of deliveries) {
      if (!this.#current(delivery.link)) {
        this.#counters.staleSettles++;
        continue;
      }
      try {
        delivery.link.channel.ack(delivery.message);
        this.#counters.acked++;
      } catch {
        // The channel closed meanwhile: the broker requeues the message.
        this.#counters.staleSettles++;
      }
    }
  }

  // Requeues the failed messages and, so that they are delivered again before anything newer,
  // the messages received on the same channel and not read yet.
  #requeue(deliveries: readonly Delivery[]): void {
    if (deliveries.length > 0) this.#warnOfFailures(deliveries.length);
    const link = this.#slot.link;
    const live = deliveries.filter((delivery) => this.#current(delivery.link));
    this.#counters.staleSettles += deliveries.length - live.length;
    if (link === undefined || live.length === 0) return;
    const unread = this.#buffer.filter((delivery) => delivery.link === link);
    this.#buffer = this.#buffer.filter((delivery) => delivery.link !== link);
    if (this.#buffer.length === 0) this.#steer(link);
    const all = [...live, ...unread].sort(
      (a, b) => a.message.fields.deliveryTag - b.message.fields.deliveryTag,
    );
    for (const delivery of all) {
      try {
        link.channel.nack(delivery.message, false, true);
        this.#counters.requeued++;
      } catch {
        this.#counters.staleSettles++;
      }
    }
  }

  /**
   * A requeued message comes straight back: one the job fails on every time (a poison message)
   * would loop for ever without a word. Says so on the first failure and at each doubling of
   * the run (1, 2, 4, 8, ...), so the log stays short however long it lasts.
   */
  #warnOfFailures(messages: number): void {
    const inARow = ++this.#counters.failedReadsInARow;
    if ((inARow & (inARow - 1)) !== 0) return;
    this.#logger.warn(
      { queue: this.#config.queue.name, failedReadsInARow: inARow, requeued: messages },
      `a batch failed: ${messages} message(s) go back to queue "${this.#config.queue.name}" and are delivered again (${inARow} failed read(s) in a row, none acknowledged since). A message the job fails on every time comes back for ever: send such records to a dead-letter sink (ctx.deadLetters), or use a quorum queue with "x-delivery-limit" in queue.arguments.`,
    );
  }

  #current(link: Link): boolean {
    return this.#slot.current(link);
  }

  #lost(link: Link, error: Error | undefined): void {
    if (!link.alive) return;
    link.alive = false;
    const reason = error?.message ?? "the connection closed";
    const failure = new NotConnectedError(
      `Lost the connection to RabbitMQ at ${link.broker.label} (${reason}). Unacknowledged messages go back to queue "${this.#config.queue.name}" and are delivered again after reconnecting.`,
      { cause: error },
    );
    if (!this.#slot.drop(link, failure)) return;
    const before = this.#buffer.length;
    this.#buffer = this.#buffer.filter((delivery) => delivery.link !== link);
    this.#counters.discardedOnLoss += before - this.#buffer.length;
    this.#logger.warn({ err: error, broker: link.broker.label }, "lost the RabbitMQ connection");
    void closeConnection(link.connection);
    this.#reads.notify();
  }
}

async function step<T>(
  operation: Promise<T>,
  at: string,
  doing: string,
  hints?: { readonly notFound?: string; readonly mismatch?: string },
): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    throw explainChannelError(error, at, doing, hints);
  }
}
