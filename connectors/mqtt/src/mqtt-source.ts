import type { IConnackPacket, IDisconnectPacket, IPublishPacket, MqttClient } from "mqtt";
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
  SluiceError,
  type Source,
  type SourceRecordColumns,
  SourceRecordColumnsBuilder,
  warnAboutTls,
} from "sluice/connector";
import {
  type BrokerAddress,
  clientOpener,
  endQuietly,
  type MqttConnect,
  type MqttOpener,
} from "./connect.js";
import { type PacketDetails, packetDetails, recordHeaders } from "./headers.js";
import { ackSender, HOLD_ACK, holdAcks } from "./held-acks.js";
import { type MqttSourceConfig, subscriptionsOf } from "./source-config.js";

/** The source's counters; read them with `source.metrics`. */
export interface MqttSourceMetrics extends ConnectionMetrics {
  /** Records handed to Sluice by `read` (nacked ones again each time). */
  readonly recordsIn: number;
  /** Bytes of their values. */
  readonly bytesIn: number;
  /** QoS 1/2 messages acknowledged to the broker (PUBACK / PUBREC) after their batch was output. */
  readonly acked: number;
  /** Records nacked by Sluice (a failed batch); they are read again. */
  readonly nacked: number;
  /** Redeliveries of messages the source still held (after a reconnect), not handed over twice. */
  readonly duplicatesDropped: number;
  /** QoS 0 messages dropped because `maxBufferedQos0` were waiting unread. */
  readonly droppedQos0: number;
  /** Acks of messages from a session the broker no longer has (nothing left to acknowledge). */
  readonly staleAcks: number;
  /**
   * Times the broker sent QoS 1/2 messages beyond `receiveMaximum` while they waited unread here,
   * and the source stopped taking packets from the connection until reads caught up.
   */
  readonly receiveMaximumOverruns: number;
  /** Reconnects where the broker no longer had the session (its unacknowledged messages are gone). */
  readonly sessionsLost: number;
}

type Counters = { -readonly [K in keyof MqttSourceMetrics]: number };

/** One connection to the broker. */
interface Link {
  readonly client: MqttClient;
  readonly broker: BrokerAddress;
  readonly sendAck: (packetId: number, qos: 1 | 2) => void;
  alive: boolean;
  disconnectReason: string | undefined;
  /** The broker disconnected it because another client connected with the same client id. */
  takenOver: boolean;
}

/** MQTT 5's DISCONNECT reason code "Session taken over". */
const SESSION_TAKEN_OVER = 142;

/**
 * A message received and not yet acknowledged to the broker, as mqtt.js gave it, with what its
 * record gets at receipt: made a record only as a row of a read's byte batch.
 */
interface Held {
  readonly topic: string;
  /**
   * The payload as mqtt.js gave it until a read copies it into its byte batch, then its row
   * there (read again from there after a nack), so that only one copy stays alive.
   */
  payload: Buffer;
  /** What its headers are made of when a record is asked for. */
  readonly details: PacketDetails;
  /** When it was received. */
  readonly timestampMs: number;
  /** The record's offset: this source's count of messages received. */
  readonly offset: number;
  /** The packet id for QoS 1/2; QoS 0 messages have none and need no acknowledgement. */
  readonly packetId: number | undefined;
  readonly qos: 0 | 1 | 2;
  /** The broker session it came in; packet ids mean nothing in another. */
  readonly session: number;
}

/**
 * Subscribes to MQTT topic filters with a persistent session (a stable client id, clean start
 * off, a session expiry) and acknowledges a QoS 1/2 message to the broker only when Sluice
 * acknowledges the read that returned it — that is, once its batch was output. Until then the
 * broker keeps the message in the session and sends it again after a reconnect or a restart of
 * the job. Redeliveries of messages the source still holds are recognised by packet id and not
 * handed over twice.
 *
 * @example
 * const source = new MqttSource(config, logger);
 * await source.connect(signal);
 * const { records, ack } = await source.read(signal);
 * await ack();
 */
export class MqttSource implements Source {
  readonly #config: MqttSourceConfig;
  readonly #logger: Logger;
  readonly #open: MqttOpener;
  readonly #counters: Counters = {
    recordsIn: 0,
    bytesIn: 0,
    acked: 0,
    nacked: 0,
    duplicatesDropped: 0,
    droppedQos0: 0,
    staleAcks: 0,
    receiveMaximumOverruns: 0,
    connects: 0,
    connectionLosses: 0,
    sessionsLost: 0,
    errors: 0,
  };
  /** QoS 1/2 messages of the current session not acknowledged yet, by packet id. */
  readonly #outstanding = new Map<number, Held>();
  /** Acknowledged by Sluice while disconnected: sent when the broker delivers them again. */
  readonly #pendingAcks = new Map<number, 1 | 2>();
  #unread: Held[] = [];
  #nacked: Held[] = [];
  #unreadQos0 = 0;
  /** Answers to mqtt.js held back while the broker overruns the Receive Maximum. */
  #stalled: (() => void)[] = [];
  /** Counts the broker sessions this source has been in; packet ids mean nothing across them. */
  #session = 0;
  /** True once a CONNACK came: a later one without the session means the broker lost it. */
  #sessionSeen = false;
  readonly #slot = new ConnectionSlot<Link>("the MQTT source", this.#counters);
  readonly #reads = new PushedReads(
    this.#slot,
    () => this.#nacked.length > 0 || this.#unread.length > 0,
  );
  #sequence = 0;
  /** Why this source may not connect again (a member of a shared subscription pushed out). */
  #refusal: SluiceError | undefined;

  constructor(config: MqttSourceConfig, logger: Logger, connect?: MqttConnect) {
    this.#config = config;
    this.#logger = logger;
    warnAboutTls(config.tls, logger, "MQTT source");
    this.#open = clientOpener(config, connect);
  }

  /** A snapshot of the counters. */
  get metrics(): MqttSourceMetrics {
    return { ...this.#counters };
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#refusal !== undefined) throw this.#refusal;
    const { clientId, sessionExpirySeconds, receiveMaximum } = this.#config;
    let candidate: Link | undefined;
    let sessionPresent = false;
    const link = await this.#slot.connect(signal, {
      open: () =>
        this.#open(
          {
            clientId,
            // Clean start only on the first connect: a reconnect must find the unacknowledged messages.
            clean: this.#config.cleanStart && this.#counters.connects === 0,
            properties: { sessionExpiryInterval: sessionExpirySeconds, receiveMaximum },
            customHandleAcks: holdAcks((topic, payload, packet) =>
              candidate === undefined
                ? undefined
                : this.#receive(candidate, topic, payload, packet),
            ),
          },
          signal,
          (client, broker) => {
            candidate = {
              client,
              broker,
              sendAck: ackSender(client),
              alive: true,
              disconnectReason: undefined,
              takenOver: false,
            };
            this.#watch(candidate);
          },
        ),
      setUp: async (opened) => {
        const prepared = candidate;
        if (prepared === undefined || prepared.client !== opened.client) {
          throw new SluiceError(
            "SLUICE_INTERNAL",
            "the MQTT client connected without being prepared",
          );
        }
        sessionPresent = opened.connack.sessionPresent;
        await this.#subscribe(prepared);
        return prepared;
      },
      discard: (opened) => {
        if (candidate !== undefined) candidate.alive = false;
        opened.client.end(true);
      },
    });
    if (link === undefined) return;
    this.#logger.info(
      {
        broker: link.broker.label,
        clientId,
        sessionPresent,
        topics: subscriptionsOf(this.#config),
      },
      "subscribed to MQTT",
    );
    this.#reads.notify();
  }

  /**
   * Returns the nacked messages, then those received and not read yet, oldest first: at most
   * `maxRecordsPerRead` and at most `options.maxRecords`. The rest stay here, their
   * acknowledgements held, for the next reads.
   */
  read(signal: AbortSignal, options?: ReadOptions): Promise<ReadResult> {
    return this.#reads.read(signal, () => this.#take(options?.maxRecords));
  }

  /**
   * How long a dead connection can go unnoticed: two missed MQTT keep-alives (`keepaliveSeconds`), or TCP's
   * timeout when they are off.
   */
  deadConnectionTimeoutMs(): number {
    return deadConnectionTimeoutMs(this.#config.keepaliveSeconds);
  }

  /**
   * Reads return nothing until `resume`. Nothing unread is acknowledged meanwhile, so the broker
   * stops sending QoS 1/2 messages once `receiveMaximum` are unacknowledged and keeps the rest
   * in the session; QoS 0 ones keep coming and are held up to `maxBufferedQos0`.
   */
  pause(): void {
    this.#reads.pause();
  }

  resume(): void {
    this.#reads.resume();
  }

  /**
   * Disconnects without acknowledging anything: the broker keeps the session with every
   * unacknowledged message for `sessionExpirySeconds`, for the next run.
   */
  async close(): Promise<void> {
    await this.#slot.close(
      (link) => endQuietly(link.client),
      () => {
        this.#unread = [];
        this.#nacked = [];
        this.#releaseStalled();
        this.#reads.notify();
      },
    );
  }

  #watch(link: Link): void {
    const { client } = link;
    client.on("error", (error: Error) => {
      if (error === HOLD_ACK) return;
      this.#logger.warn({ err: error, broker: link.broker.label }, "MQTT client error");
    });
    // Runs before mqtt.js handles the packets after the CONNACK: the session is settled before
    // any message of it is received.
    client.on("connect", (connack: IConnackPacket) => this.#startSession(connack));
    client.on("message", (topic: string, payload: Buffer, packet: IPublishPacket) => {
      // QoS 1/2 messages come through the ack handler; only QoS 0 ones are emitted here.
      if (packet.qos === 0 && link.alive) this.#receiveQos0(topic, payload, packet);
    });
    client.on("disconnect", (packet: IDisconnectPacket) => {
      link.takenOver = packet.reasonCode === SESSION_TAKEN_OVER;
      link.disconnectReason = `the broker disconnected the client, reason code ${packet.reasonCode ?? 0}${packet.properties?.reasonString ? ` (${packet.properties.reasonString})` : ""}`;
    });
    client.on("close", () => this.#lost(link));
  }

  #startSession(connack: IConnackPacket): void {
    const before = this.#sessionSeen;
    this.#sessionSeen = true;
    if (connack.sessionPresent) return;
    const held = this.#outstanding.size + this.#pendingAcks.size;
    if (before) {
      this.#counters.sessionsLost++;
      this.#logger.warn(
        { clientId: this.#config.clientId, unacknowledged: held },
        "the broker had no session for this client id; messages it held unacknowledged are gone (records already read are still processed)",
      );
    }
    this.#session++;
    this.#outstanding.clear();
    this.#pendingAcks.clear();
  }

  async #subscribe(link: Link): Promise<void> {
    for (const { filter, qos } of subscriptionsOf(this.#config)) {
      try {
        // Retain handling 1: retained messages only for a subscription the session lacked.
        await link.client.subscribeAsync(filter, { qos, rh: 1 });
      } catch (error) {
        if (refusedSubscription(error)) {
          throw new SluiceError(
            "SLUICE_CONNECTOR_REFUSED",
            `MQTT broker at ${link.broker.label} refused the subscription to "${filter}" at QoS ${qos} (${error instanceof Error ? error.message : String(error)}): check the filter and the broker's access rules for client id "${this.#config.clientId}"`,
            { cause: error },
          );
        }
        throw new NotConnectedError(
          `MQTT broker at ${link.broker.label}: the connection was lost while subscribing to "${filter}"`,
          { cause: error },
        );
      }
    }
  }

  // Returns a promise when the broker overran the Receive Maximum: mqtt.js then takes no further
  // packet until reads have caught up (see holdAcks).
  #receive(
    link: Link,
    topic: string,
    payload: Buffer,
    packet: IPublishPacket,
  ): Promise<void> | undefined {
    const packetId = packet.messageId;
    if (!link.alive || packetId === undefined || packet.qos === 0) return;
    const qos = packet.qos;
    const pending = this.#pendingAcks.get(packetId);
    if (pending !== undefined) {
      // Sluice acknowledged this message while the connection was down: acknowledge it now.
      this.#pendingAcks.delete(packetId);
      this.#counters.duplicatesDropped++;
      this.#sendAck(link, packetId, pending);
      return;
    }
    if (this.#outstanding.has(packetId)) {
      // Sent again after a reconnect, and still held here: one copy is enough.
      this.#counters.duplicatesDropped++;
      return;
    }
    const held: Held = {
      ...this.#received(topic, payload, packet),
      packetId,
      qos,
      session: this.#session,
    };
    this.#outstanding.set(packetId, held);
    this.#unread.push(held);
    this.#reads.notify();
    if (this.#unreadHeld() <= this.#config.receiveMaximum) return undefined;
    // Never while connecting: a resumed session's unacknowledged messages come before the SUBACK
    // that connect() waits for, and Sluice reads only once connect() resolved, so holding mqtt.js
    // here would wait on reads that wait on it. They are what the broker had in flight for the
    // session (more than receiveMaximum only when it overran it on the previous connection).
    if (!this.#slot.current(link)) return undefined;
    // A broker that keeps to MQTT 5 never gets here: it sends no more than receiveMaximum
    // unacknowledged messages, and only read ones are acknowledged. Some do not (Mosquitto 2.0
    // with a producer publishing while acknowledgements come in); TCP flow control bounds them.
    if (this.#counters.receiveMaximumOverruns++ === 0) {
      this.#logger.warn(
        { broker: link.broker.label, receiveMaximum: this.#config.receiveMaximum },
        "the broker sent more unacknowledged QoS 1/2 messages than receiveMaximum; reading from the connection waits until they are read",
      );
    }
    return new Promise((resolve) => this.#stalled.push(resolve));
  }

  /** QoS 1/2 messages received and not read yet. */
  #unreadHeld(): number {
    return this.#unread.length - this.#unreadQos0;
  }

  #releaseStalled(): void {
    const stalled = this.#stalled;
    this.#stalled = [];
    for (const release of stalled) release();
  }

  #receiveQos0(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.#unreadQos0 >= this.#config.maxBufferedQos0) {
      if (this.#counters.droppedQos0++ % 1_000 === 0) {
        this.#logger.warn(
          { dropped: this.#counters.droppedQos0, maxBufferedQos0: this.#config.maxBufferedQos0 },
          "dropping QoS 0 messages: too many wait unread",
        );
      }
      return;
    }
    this.#unreadQos0++;
    this.#unread.push({
      ...this.#received(topic, payload, packet),
      packetId: undefined,
      qos: 0,
      session: this.#session,
    });
    this.#reads.notify();
  }

  #received(
    topic: string,
    payload: Buffer,
    packet: IPublishPacket,
  ): Pick<Held, "topic" | "payload" | "details" | "timestampMs" | "offset"> {
    return {
      topic,
      payload,
      details: packetDetails(packet),
      timestampMs: Date.now(),
      offset: this.#sequence++,
    };
  }

  #take(maxRecords: number | undefined): ReadResult {
    const max = readSize(this.#config.maxRecordsPerRead, maxRecords);
    const taken = this.#nacked.splice(0, max);
    if (taken.length < max) {
      const fresh = this.#unread.splice(0, max - taken.length);
      this.#unreadQos0 -= fresh.filter((held) => held.qos === 0).length;
      taken.push(...fresh);
      if (this.#unreadHeld() <= this.#config.receiveMaximum) this.#releaseStalled();
    }
    const settle = (error: unknown): void => {
      if (error === undefined) {
        this.#acknowledge(taken);
        return;
      }
      // Nothing to tell the broker: the messages stay unacknowledged and are read again first.
      this.#counters.nacked += taken.length;
      this.#nacked.push(...taken);
      this.#reads.notify();
    };
    if (taken.length === 0) return readResult([], settle);
    // One byte batch: payloads and topics (the keys) copied into a blob each, each row's topic
    // its partition, headers made from the packets only when a record is asked for.
    const builder = new SourceRecordColumnsBuilder(recordHeaders);
    let topic: string | undefined;
    let key: Buffer | undefined;
    for (const held of taken) {
      if (held.topic !== topic || key === undefined) {
        topic = held.topic;
        key = Buffer.from(topic);
      }
      builder.add(topic, held.payload, key, held.timestampMs, held.offset, held.details);
      this.#counters.recordsIn++;
      this.#counters.bytesIn += held.payload.byteLength;
    }
    const columns = builder.build() as SourceRecordColumns;
    const { bytes, valueOffsets } = columns;
    taken.forEach((held, row) => {
      held.payload = bytes.subarray(valueOffsets[row], valueOffsets[row + 1]) as Buffer;
    });
    return readColumnsResult(columns, settle);
  }

  #acknowledge(taken: readonly Held[]): void {
    const link = this.#slot.link;
    for (const held of taken) {
      if (held.packetId === undefined || held.qos === 0) continue;
      if (held.session !== this.#session) {
        this.#counters.staleAcks++;
        continue;
      }
      this.#outstanding.delete(held.packetId);
      if (link?.alive) this.#sendAck(link, held.packetId, held.qos);
      else this.#pendingAcks.set(held.packetId, held.qos);
    }
  }

  #sendAck(link: Link, packetId: number, qos: 1 | 2): void {
    try {
      link.sendAck(packetId, qos);
      this.#counters.acked++;
    } catch (error) {
      // The connection is going away: the broker sends the message again, acknowledged then.
      this.#pendingAcks.set(packetId, qos);
      this.#logger.debug({ err: error, packetId }, "acknowledgement deferred");
    }
  }

  #shared(): boolean {
    return subscriptionsOf(this.#config).some(({ filter }) => filter.startsWith("$share/"));
  }

  #lost(link: Link): void {
    if (!link.alive) return;
    link.alive = false;
    const reason = link.disconnectReason ?? "the connection closed";
    const failure = new NotConnectedError(
      `Lost the connection to MQTT broker at ${link.broker.label} (${reason}). The broker keeps the session of client id "${this.#config.clientId}": unacknowledged messages come again after reconnecting.`,
    );
    if (!this.#slot.drop(link, failure)) return;
    this.#logger.warn({ broker: link.broker.label, reason }, "lost the MQTT connection");
    if (link.takenOver && this.#shared()) {
      // Members of a shared subscription run the same job by design: a takeover means two of
      // them were given one client id. Taking the session back in turn would have each
      // acknowledge packet ids the other was given; the one pushed out stops instead.
      this.#refusal = new SluiceError(
        "SLUICE_CONNECTOR_REFUSED",
        `MQTT broker at ${link.broker.label} handed the session of client id "${this.#config.clientId}" to another client that connected with the same id. Every process subscribing to a shared subscription ("$share/...") needs its own, stable client id: give each its own "clientId" (docs/connectors/mqtt.md, "Several processes").`,
      );
    }
    this.#releaseStalled();
    link.client.end(true);
    this.#reads.notify();
  }
}

// mqtt.js rejects a refused subscription with the SUBACK, whose reason codes are 0x80 or more.
function refusedSubscription(error: unknown): boolean {
  const granted = (error as { packet?: { granted?: unknown } } | null)?.packet?.granted;
  const code = (error as { code?: unknown } | null)?.code;
  return (
    (Array.isArray(granted) &&
      granted.some((reason) => typeof reason === "number" && reason >= 0x80)) ||
    (typeof code === "number" && code >= 0x80)
  );
}
