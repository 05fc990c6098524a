import { randomUUID } from "node:crypto";
import type { IClientPublishOptions, MqttClient } from "mqtt";
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
import {
  type BrokerAddress,
  clientOpener,
  endQuietly,
  type MqttConnect,
  type MqttOpener,
} from "./connect.js";
import { userProperties } from "./headers.js";
import { publishPacketBytes } from "./publish-packet-size.js";
import type { MqttSinkConfig, TopicFunction } from "./sink-config.js";
import { isFixedTopic, topicNameProblem } from "./topics.js";

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
  /** The largest packet the broker takes (its CONNACK's maximum packet size), when it says. */
  maximumPacketSize: number | undefined;
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
 * The records of a batch the broker confirmed, by object (a batch may hold one object twice),
 * while the batch is not yet written: when a record was refused, Sluice writes the batch again
 * without it, and what the broker already took is not published a second time.
 */
interface ConfirmedRecords {
  readonly idempotencyKey: string;
  readonly counts: Map<SinkRecord, number>;
}

/**
 * PUBACK/PUBREC reason codes that refuse one message for what it is: its topic name (0x90), its
 * size (0x95) or its payload against its format indicator (0x99). Not authorized (0x87) is one
 * too when the topic comes from the record (see `#refusesRecord`).
 */
const RECORD_REFUSALS: ReadonlyMap<number, string> = new Map([
  [0x90, "the broker does not accept the topic name"],
  [
    0x95,
    "the message is larger than the broker takes (Mosquitto: message_size_limit or max_packet_size); make the record smaller or raise the limit",
  ],
  [0x99, "the payload does not match its payload format indicator"],
]);
const NOT_AUTHORIZED = 0x87;

/**
 * Publishes records to MQTT topics built from each record (a template such as
 * `"sensors/{key}/out"`, or a function), at a configured QoS, optionally retained. At QoS 1/2 a
 * batch resolves only once the broker acknowledged every message; a lost connection rejects it
 * with `NotConnectedError` and Sluice reconnects and writes the batch again, of which the sink
 * publishes what the broker has not confirmed. A message the broker refuses for what it is
 * (reason 0x90, 0x95, 0x99, or 0x87 for a topic built from the record) is an `InvalidRecordError`
 * with the record's index. A write still waiting for answers when the job stops without draining
 * (`retriesEnd` aborts) gives up with `SLUICE_CONNECTOR_IO` and drops the connection.
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
  readonly #fixedTopic: boolean;
  #confirmed: ConfirmedRecords | undefined;

  constructor(config: MqttSinkConfig, logger: Logger, connect?: MqttConnect) {
    this.#config = config;
    this.#logger = logger;
    warnAboutTls(config.tls, logger, "MQTT sink");
    this.#open = clientOpener(config, connect);
    this.#topic = templateFunction(config.topic);
    this.#fixedTopic = isFixedTopic(config.topic);
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
        prepared.maximumPacketSize = opened.connack.properties?.maximumPacketSize;
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
    // A write waiting for its answers when the stop comes gives up once the stop's grace is
    // over (`waitsEnd`, else `retriesEnd`; `#publish`); one begun after that still gets its
    // answers (a first attempt still runs).
    const waitsEnd = context.waitsEnd ?? context.retriesEnd;
    const stopping = waitsEnd?.aborted === false ? waitsEnd : undefined;
    const outgoing = records.map((record, index) => this.#message(record, index, context));
    refuseOversized(outgoing, link, context);
    await this.#slot.write(this.#publish(records, outgoing, context, link, stopping));
    this.#confirmed = undefined;
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
      maximumPacketSize: undefined,
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
    records: readonly SinkRecord[],
    outgoing: readonly Outgoing[],
    context: WriteBatchContext,
    link: Link,
    stopping: AbortSignal | undefined,
  ): Promise<void> {
    if (this.#confirmed?.idempotencyKey !== context.idempotencyKey) {
      this.#confirmed = { idempotencyKey: context.idempotencyKey, counts: new Map() };
    }
    const confirmed = this.#confirmed.counts;
    // What the broker confirmed in an earlier write of this batch is left out of this one.
    const skip = new Map(confirmed);
    const refusals: { readonly index: number; readonly error: unknown }[] = [];
    const publishes: Promise<void>[] = [];
    let confirmedNow = 0;
    for (const [index, message] of outgoing.entries()) {
      const record = records[index];
      if (record === undefined) continue;
      const skipped = skip.get(record) ?? 0;
      if (skipped > 0) {
        skip.set(record, skipped - 1);
        continue;
      }
      publishes.push(
        link.client.publishAsync(message.topic, message.payload, message.options).then(
          () => {
            confirmed.set(record, (confirmed.get(record) ?? 0) + 1);
            confirmedNow++;
          },
          (error: unknown) => {
            refusals.push({ index, error });
          },
        ),
      );
    }
    // Every answer is awaited, not just the first refusal: what the broker took is then known.
    // A connection the broker keeps open without answering (it is overloaded, or a network
    // device holds it) is noticed only by the keep-alive, never with keepaliveSeconds: 0; a stop
    // without draining does not wait for it.
    let lost: unknown;
    const answers = Promise.race([
      Promise.all(publishes),
      link.lost.then((failure) => Promise.reject(failure)),
    ]);
    await (stopping === undefined ? answers : abortable(answers, stopping)).catch(
      (failure: unknown) => {
        lost = failure;
      },
    );
    if (stopping?.aborted === true && lost === stopping.reason) {
      throw this.#stoppedWaiting(link, context, publishes.length - confirmedNow);
    }
    if (lost === undefined && !link.alive) lost = await link.lost;
    refusals.sort((a, b) => a.index - b.index);
    // A broker may close the connection after refusing a message (Mosquitto 2.0 does after a
    // denied publish): then the refusal, not the lost link, is what writing again would meet,
    // and the publishes mqtt.js failed for the closed connection say nothing.
    const answered = refusals.filter(
      (refusal) => lost === undefined || typeof reasonCodeOf(refusal.error) === "number",
    );
    const ofBatch = answered.find((refusal) => !this.#refusesRecord(refusal.error));
    if (ofBatch !== undefined) {
      throw this.#explainPublishError(ofBatch.error, outgoing, context, link);
    }
    const ofRecords = answered.filter((refusal) => this.#refusesRecord(refusal.error));
    const [first] = ofRecords;
    // With its index, a job with a dead-letter sink sends the record there and writes the batch
    // again: what the broker confirmed is not published twice.
    if (first !== undefined) {
      throw this.#refusedRecord(
        first,
        ofRecords.length,
        lost !== undefined,
        outgoing,
        context,
        link,
      );
    }
    if (lost !== undefined) throw lost;
  }

  /**
   * Gives up the connection a write stopped waiting on: what the broker will still answer there
   * is unknown, so the next write (of a later run, usually) connects afresh.
   */
  #stoppedWaiting(link: Link, context: WriteBatchContext, unconfirmed: number): SluiceError {
    const reason = `the write of batch ${context.batchTime} (partition ${context.partition}) stopped waiting for its acknowledgements because the StreamingContext is stopping without draining`;
    link.alive = false;
    this.#slot.drop(link, new NotConnectedError(`${reason}; the sink connects again`));
    link.client.end(true);
    return new SluiceError(
      "SLUICE_CONNECTOR_IO",
      `MQTT broker at ${link.broker.label}: ${reason}, with ${unconfirmed} message(s) unconfirmed. The batch is not acknowledged; its input is published again on the next run (at least once: the broker may have taken some of its messages).`,
    );
  }

  /** True for a broker's refusal of one message for what it is rather than of the batch. */
  #refusesRecord(error: unknown): boolean {
    const code = reasonCodeOf(error);
    if (code === undefined) return false;
    return RECORD_REFUSALS.has(code) || (code === NOT_AUTHORIZED && !this.#fixedTopic);
  }

  #refusedRecord(
    refusal: { readonly index: number; readonly error: unknown },
    count: number,
    closed: boolean,
    outgoing: readonly Outgoing[],
    context: WriteBatchContext,
    link: Link,
  ): InvalidRecordError {
    const { index, error } = refusal;
    const code = reasonCodeOf(error);
    const reason = error instanceof Error ? error.message : String(error);
    const message = outgoing[index];
    const advice =
      (typeof code === "number" ? RECORD_REFUSALS.get(code) : undefined) ??
      "the broker's access rules do not let this client publish to that topic; fix the record's topic or the rules";
    const others = count > 1 ? ` (and ${count - 1} more record${count > 2 ? "s" : ""})` : "";
    return new InvalidRecordError(
      `record ${index} of batch ${context.batchTime} (partition ${context.partition})${others} was refused by MQTT broker at ${link.broker.label} (${reason}, reason code 0x${typeof code === "number" ? code.toString(16) : "?"}) for topic "${message?.topic ?? "?"}" with ${message?.payload.byteLength ?? 0} bytes of payload: ${advice}.${closed ? " The broker closed the connection after refusing it." : ""} Writing the batch again publishes only what the broker has not confirmed.`,
      { recordIndex: index, cause: error },
    );
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
    if (code === 151 || code === 150 || code === 137) {
      return new BackoffError(`${at} asked to slow down while publishing ${batch} (${reason})`, {
        cause: error,
      });
    }
    return new NotConnectedError(`${at}: publishing ${batch} failed (${reason})`, { cause: error });
  }
}

// MQTT's largest packet: a remaining length of four variable-length bytes.
const MQTT_MAX_PACKET_BYTES = 268_435_460;

// A message larger than the broker takes would make it close the connection (Mosquitto does,
// without answering the publish), and the batch would be published again for ever: refused by
// index before anything of the batch goes out, so a dead-letter sink can take it.
function refuseOversized(
  outgoing: readonly Outgoing[],
  link: Link,
  context: WriteBatchContext,
): void {
  const limit = Math.min(link.maximumPacketSize ?? MQTT_MAX_PACKET_BYTES, MQTT_MAX_PACKET_BYTES);
  for (const [index, message] of outgoing.entries()) {
    if (packetBytesAtMost(message) <= limit) continue;
    const bytes = publishPacketBytes(message.topic, message.payload.byteLength, message.options);
    if (bytes <= limit) continue;
    throw new InvalidRecordError(
      `record ${index} of batch ${context.batchTime} (partition ${context.partition}) makes an MQTT packet of ${bytes} bytes for topic "${message.topic}" (${message.payload.byteLength} bytes of payload), more than the ${link.maximumPacketSize === undefined ? "protocol's" : `broker at ${link.broker.label}'s`} maximum packet size of ${limit} bytes: split the record or raise the broker's max_packet_size; nothing of the batch was published.`,
      { recordIndex: index },
    );
  }
}

// A bound on a message's packet size without encoding anything (a UTF-16 unit is at most three
// UTF-8 bytes): most messages are far below the limit, and their exact size is not needed.
function packetBytesAtMost({ topic, payload, options }: Outgoing): number {
  const properties = options.properties;
  if (properties?.userProperties !== undefined) return Number.POSITIVE_INFINITY;
  const contentType = properties?.contentType;
  return (
    payload.byteLength +
    3 * topic.length +
    (contentType === undefined ? 0 : 3 + 3 * contentType.length) +
    5 + // message expiry
    2 + // packet id
    2 + // topic length
    4 + // properties length
    5 // fixed header
  );
}

/** The MQTT reason code mqtt.js gives a refused publish's error, if it has one. */
function reasonCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "number" ? code : undefined;
}
