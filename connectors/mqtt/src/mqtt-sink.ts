import { randomUUID } from "node:crypto";
import type { IClientPublishOptions, MqttClient } from "mqtt";
import type { Logger } from "pino";
import {
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
import {
  type BrokerAddress,
  clientOpener,
  endQuietly,
  type MqttConnect,
  type MqttOpener,
} from "./connect.js";
import { userProperties } from "./headers.js";
import type { MqttSinkConfig, TopicFunction } from "./sink-config.js";
import { topicNameProblem } from "./topics.js";

/** The sink's counters; read them with `sink.metrics`. */
export interface MqttSinkMetrics extends ConnectionMetrics {
  /** Messages published (confirmed by the broker at QoS 1/2). */
  readonly recordsOut: number;
  /** Bytes of their values. */
  readonly bytesOut: number;
  /** Batches written. */
  readonly batches: number;
}

type Counters = { -readonly [K in keyof MqttSinkMetrics]: number };

interface Link {
  readonly client: MqttClient;
  readonly broker: BrokerAddress;
  alive: boolean;
  /** Settles when the connection is lost, with the reason. */
  readonly lost: Promise<NotConnectedError>;
}

interface Outgoing {
  readonly topic: string;
  readonly payload: Buffer;
  readonly options: IClientPublishOptions;
}

/**
 * Publishes records to MQTT topics built from each record (a template such as
 * `"sensors/{key}/out"`, or a function), at a configured QoS, optionally retained. At QoS 1/2 a
 * batch resolves only once the broker acknowledged every message; a lost connection rejects it
 * with `NotConnectedError` and Sluice reconnects and publishes the batch again.
 *
 * @example
 * const sink = new MqttSink(config, logger);
 * await sink.connect(signal);
 * await sink.writeBatch(records, { batchTime, partition: 0, idempotencyKey });
 */
export class MqttSink implements Sink {
  readonly #config: MqttSinkConfig;
  readonly #logger: Logger;
  readonly #open: MqttOpener;
  readonly #topic: TopicFunction;
  readonly #clientId: string;
  readonly #counters: Counters = {
    recordsOut: 0,
    bytesOut: 0,
    batches: 0,
    connects: 0,
    connectionLosses: 0,
    errors: 0,
  };
  readonly #slot = new ConnectionSlot<Link>("the MQTT sink", this.#counters);

  constructor(config: MqttSinkConfig, logger: Logger, connect?: MqttConnect) {
    this.#config = config;
    this.#logger = logger;
    warnAboutTls(config.tls, logger, "MQTT sink");
    this.#open = clientOpener(config, connect);
    this.#topic = templateFunction(config.topic);
    this.#clientId = config.clientId ?? `sluice-sink-${randomUUID()}`;
  }

  /** A snapshot of the counters. */
  get metrics(): MqttSinkMetrics {
    return { ...this.#counters };
  }

  async connect(signal: AbortSignal): Promise<void> {
    let prepared: Link | undefined;
    const link = await this.#slot.connect(signal, {
      open: () =>
        this.#open({ clientId: this.#clientId, clean: true }, signal, (client, broker) => {
          prepared = this.#watch(client, broker);
        }),
      setUp: (opened) => {
        if (prepared === undefined || prepared.client !== opened.client) {
          throw new SluiceError("SLUICE_INTERNAL", "the MQTT client was not prepared");
        }
        return prepared;
      },
      discard: (opened) => opened.client.end(true),
    });
    if (link === undefined) return;
    this.#logger.info(
      { broker: link.broker.label, clientId: this.#clientId },
      "publishing to MQTT",
    );
  }

  async writeBatch(records: readonly SinkRecord[], context: WriteBatchContext): Promise<void> {
    this.#slot.assertOpen();
    const link = this.#slot.require();
    const outgoing = records.map((record, index) => this.#message(record, index, context));
    await this.#slot.write(this.#publish(outgoing, context, link));
    this.#counters.batches++;
    for (const record of records) {
      this.#counters.recordsOut++;
      this.#counters.bytesOut += record.value.byteLength;
    }
  }

  /** Waits for a write in progress, then disconnects. */
  async close(): Promise<void> {
    await this.#slot.close((link) => endQuietly(link.client));
  }

  #watch(client: MqttClient, broker: BrokerAddress): Link {
    let markLost: (failure: NotConnectedError) => void = () => undefined;
    const link: Link = {
      client,
      broker,
      alive: true,
      lost: new Promise((resolve) => {
        markLost = resolve;
      }),
    };
    let disconnectReason: string | undefined;
    client.on("error", (error: Error) =>
      this.#logger.warn({ err: error, broker: broker.label }, "MQTT client error"),
    );
    client.on("disconnect", (packet) => {
      disconnectReason = `the broker disconnected the client, reason code ${packet.reasonCode ?? 0}`;
    });
    client.on("close", () => {
      if (!link.alive) return;
      link.alive = false;
      const failure = new NotConnectedError(
        `Lost the connection to MQTT broker at ${broker.label} (${disconnectReason ?? "the connection closed"}); the batch is published again after reconnecting.`,
      );
      markLost(failure);
      client.end(true);
      if (!this.#slot.drop(link, failure)) return;
      this.#logger.warn({ broker: broker.label }, "lost the MQTT connection");
    });
    return link;
  }

  #message(record: SinkRecord, index: number, context: WriteBatchContext): Outgoing {
    const { qos, retain, contentType, messageExpirySeconds } = this.#config;
    let topic: unknown;
    let properties: IClientPublishOptions["properties"];
    try {
      topic = this.#topic(record, index);
      if (typeof topic !== "string") {
        throw new Error(`the topic function returned ${typeof topic}, not a string`);
      }
      const problem = topicNameProblem(topic);
      if (problem !== undefined) throw new Error(problem);
      const user = userProperties(record.headers);
      properties = {
        ...(user === undefined ? {} : { userProperties: user }),
        ...(contentType === undefined ? {} : { contentType }),
        ...(messageExpirySeconds === undefined
          ? {}
          : { messageExpiryInterval: messageExpirySeconds }),
      };
    } catch (error) {
      // With its index, a job with a dead-letter sink sends the record there and publishes the rest.
      throw new InvalidRecordError(
        `record ${index} of batch ${context.batchTime} (partition ${context.partition}) cannot be published: ${error instanceof Error ? error.message : String(error)}. Fix the record or the "topic" setting; nothing of the batch was published.`,
        { recordIndex: index, cause: error },
      );
    }
    return {
      topic,
      payload: Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength),
      options: { qos, retain, ...(Object.keys(properties).length > 0 ? { properties } : {}) },
    };
  }

  async #publish(
    outgoing: readonly Outgoing[],
    context: WriteBatchContext,
    link: Link,
  ): Promise<void> {
    const publishes = outgoing.map((message) =>
      link.client.publishAsync(message.topic, message.payload, message.options),
    );
    try {
      await Promise.race([
        Promise.all(publishes),
        link.lost.then((failure) => Promise.reject(failure)),
      ]);
    } catch (error) {
      // Publishes still pending when the batch failed are of no interest any more.
      for (const pending of publishes) pending.catch(() => undefined);
      if (!link.alive) throw await link.lost;
      throw this.#explainPublishError(error, outgoing, context, link);
    }
  }

  #explainPublishError(
    error: unknown,
    outgoing: readonly Outgoing[],
    context: WriteBatchContext,
    link: Link,
  ): SluiceError {
    const code = (error as { code?: unknown } | null)?.code;
    const reason = error instanceof Error ? error.message : String(error);
    const at = `MQTT broker at ${link.broker.label}`;
    const batch = `batch ${context.batchTime} (partition ${context.partition})`;
    if (code === 135) {
      return new SluiceError(
        "SLUICE_CONNECTOR_REFUSED",
        `${at} refused to take messages of ${batch} as not authorized (${reason}): check the broker's access rules for the topics ${[...new Set(outgoing.map((message) => message.topic))].slice(0, 3).join(", ")}`,
        { cause: error },
      );
    }
    if (code === 144 || code === 149 || code === 153) {
      return new SluiceError(
        "SLUICE_INVALID_RECORD",
        `${at} refused a message of ${batch} (${reason}); check its topic and size`,
        { cause: error },
      );
    }
    if (code === 151 || code === 150 || code === 137) {
      return new BackoffError(`${at} asked to slow down while publishing ${batch} (${reason})`, {
        cause: error,
      });
    }
    return new NotConnectedError(`${at}: publishing ${batch} failed (${reason})`, { cause: error });
  }
}
