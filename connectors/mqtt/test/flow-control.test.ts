// Flow control of the MQTT source against a fake mqtt.js client: what it asks the broker for
// (MQTT 5 with a Receive Maximum), reads bounded by maxRecords with the rest kept, and no
// acknowledgement for a message Sluice has not acknowledged, paused or not.
import { EventEmitter } from "node:events";
import type { IClientOptions, IPublishPacket, MqttClient } from "mqtt";
import type { ReadResult } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import { MqttSource } from "../src/mqtt-source.js";
import { mqttSourceConfig } from "../src/source-config.js";

const decoder = new TextDecoder();
const tick = () => new Promise((resolve) => setImmediate(resolve));

type AckHandler = (
  topic: string,
  payload: Buffer,
  packet: IPublishPacket,
  done: (error: Error | number) => void,
) => void;

/** An mqtt.js client that connects at once and records the acknowledgements sent. */
class FakeClient extends EventEmitter {
  readonly options: IClientOptions;
  readonly acks: string[] = [];
  connected = false;
  #nextId = 1;

  constructor(options: IClientOptions) {
    super();
    this.options = options;
    setImmediate(() => {
      this.connected = true;
      this.emit("connect", { cmd: "connack", sessionPresent: false });
    });
  }

  /**
   * The broker sends a QoS 1 message, through the ack handler as mqtt.js does; resolves when
   * the handler answers mqtt.js (only then would it take the next packet).
   */
  send(text: string): { answered: boolean } {
    const packet = {
      cmd: "publish",
      topic: "t",
      qos: 1,
      messageId: this.#nextId++,
      payload: Buffer.from(text),
      retain: false,
      dup: false,
    } as IPublishPacket;
    const handler = this.options.customHandleAcks as unknown as AckHandler;
    const answer = { answered: false };
    handler("t", Buffer.from(text), packet, () => {
      answer.answered = true;
    });
    return answer;
  }

  async subscribeAsync(): Promise<unknown> {
    return [{ topic: "t", qos: 1 }];
  }

  _sendPacket(packet: { cmd: string; messageId: number }): void {
    this.acks.push(`${packet.cmd} ${packet.messageId}`);
  }

  end(): this {
    this.connected = false;
    return this;
  }

  async endAsync(): Promise<void> {
    this.connected = false;
  }
}

/**
 * A client whose broker had the session with `resent` unacknowledged messages: it sends them
 * again right after the CONNACK, before the SUBACK, which mqtt.js handles only once the ack
 * handler answered every one of them (it takes packets one at a time).
 */
class ResumingClient extends FakeClient {
  static resent: string[] = [];

  override async subscribeAsync(): Promise<unknown> {
    const answers = ResumingClient.resent.map((text) => this.send(text));
    while (!answers.every((answer) => answer.answered)) await tick();
    return super.subscribeAsync();
  }
}

let source: MqttSource | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

async function connected(
  receiveMaximum = 50,
  Client: typeof FakeClient = FakeClient,
  topics: string[] = ["t"],
): Promise<{ mqtt: MqttSource; client: FakeClient; clients: FakeClient[] }> {
  let client: FakeClient | undefined;
  const clients: FakeClient[] = [];
  const config = mqttSourceConfig.parse({
    url: "mqtt://127.0.0.1",
    clientId: "job",
    topics,
    receiveMaximum,
    maxRecordsPerRead: 100,
  });
  source = new MqttSource(config, new LogCapture().logger, (options) => {
    client = new Client(options);
    clients.push(client);
    return client as unknown as MqttClient;
  });
  await source.connect(AbortSignal.timeout(1_000));
  if (client === undefined) throw new Error("no client was created");
  return { mqtt: source, client, clients };
}

const values = (result: ReadResult) => result.records.map((record) => decoder.decode(record.value));

describe("MQTT source flow control", () => {
  it("connects with MQTT 5, a persistent session and the configured Receive Maximum", async () => {
    const { client } = await connected(250);
    expect(client.options).toMatchObject({
      protocolVersion: 5,
      clientId: "job",
      clean: false,
      properties: { receiveMaximum: 250 },
    });
  });

  it("returns at most maxRecords per read, keeps the rest, and acknowledges only what Sluice acknowledged", async () => {
    const { mqtt, client } = await connected();
    for (let index = 0; index < 10; index++) client.send(String(index));
    const signal = AbortSignal.timeout(1_000);

    const first = await mqtt.read(signal, { maxRecords: 3 });
    const second = await mqtt.read(signal, { maxRecords: 4 });
    expect(values(first)).toEqual(["0", "1", "2"]);
    expect(values(second)).toEqual(["3", "4", "5", "6"]);
    expect(client.acks).toEqual([]);

    await second.ack();
    expect(client.acks).toEqual(["puback 4", "puback 5", "puback 6", "puback 7"]);
    // A nacked read comes back first, still within the hint.
    await first.ack(new Error("the batch failed"));
    expect(values(await mqtt.read(signal, { maxRecords: 2 }))).toEqual(["0", "1"]);
    expect(values(await mqtt.read(signal, { maxRecords: 5 }))).toEqual(["2", "7", "8", "9"]);
  });

  it("while paused, reads return nothing and nothing received is acknowledged, so the broker stops at Receive Maximum", async () => {
    const { mqtt, client } = await connected();
    client.send("before");
    const signal = AbortSignal.timeout(1_000);
    const read = await mqtt.read(signal);
    mqtt.pause();
    for (let index = 0; index < 5; index++) client.send(`during ${index}`);
    expect(await mqtt.read(signal)).toMatchObject({ records: [] });
    await tick();
    expect(client.acks).toEqual([]);
    // Acknowledging what was read before the pause is allowed; the unread ones stay held.
    await read.ack();
    expect(client.acks).toEqual(["puback 1"]);

    mqtt.resume();
    const after = await mqtt.read(signal, { maxRecords: 10 });
    expect(values(after)).toEqual(["during 0", "during 1", "during 2", "during 3", "during 4"]);
    expect(client.acks).toEqual(["puback 1"]);
  });

  it("takes no further packet from a broker that overruns Receive Maximum until reads catch up", async () => {
    const { mqtt, client } = await connected(3);
    const answers = ["0", "1", "2"].map((text) => client.send(text));
    expect(answers.every((answer) => answer.answered)).toBe(true);
    // A fourth unacknowledged message: the broker broke the window.
    const overrun = client.send("3");
    await tick();
    expect(overrun.answered).toBe(false);
    expect(mqtt.metrics.receiveMaximumOverruns).toBe(1);

    const read = await mqtt.read(AbortSignal.timeout(1_000), { maxRecords: 1 });
    expect(values(read)).toEqual(["0"]);
    await tick();
    expect(overrun.answered).toBe(true);
  });

  it("connects to a session the broker resends more than Receive Maximum of, without waiting on reads that wait on connect", async () => {
    ResumingClient.resent = ["0", "1", "2", "3", "4"];
    const { mqtt, client } = await connected(3, ResumingClient);
    expect(mqtt.metrics.receiveMaximumOverruns).toBe(0);
    const signal = AbortSignal.timeout(1_000);
    expect(values(await mqtt.read(signal, { maxRecords: 10 }))).toEqual(["0", "1", "2", "3", "4"]);
    // Once connected, an overrun holds mqtt.js back again until reads catch up.
    for (const text of ["5", "6", "7"]) client.send(text);
    const overrun = client.send("8");
    await tick();
    expect(overrun.answered).toBe(false);
    expect(mqtt.metrics.receiveMaximumOverruns).toBe(1);
    await mqtt.read(signal, { maxRecords: 1 });
    await tick();
    expect(overrun.answered).toBe(true);
  });

  it("stops, naming the client id, when a member of a shared subscription is pushed out by another with its client id", async () => {
    const { mqtt, client } = await connected(50, FakeClient, ["$share/ingest/t"]);
    client.emit("disconnect", { cmd: "disconnect", reasonCode: 142 });
    client.emit("close");
    await expect(mqtt.read(AbortSignal.timeout(1_000))).rejects.toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
    });
    await expect(mqtt.connect(AbortSignal.timeout(1_000))).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_REFUSED",
      message: expect.stringContaining('client id "job"'),
    });
  });

  it("reconnects after a takeover when it subscribes to no shared subscription", async () => {
    const { mqtt, client, clients } = await connected();
    client.emit("disconnect", { cmd: "disconnect", reasonCode: 142 });
    client.emit("close");
    await mqtt.connect(AbortSignal.timeout(1_000));
    expect(clients).toHaveLength(2);
  });
});
