// What the MQTT connectors promise beyond the conformance kit, against the real broker: no
// QoS 1/2 message acknowledged before ack(), the persistent session across a restart of the
// connector, redeliveries after a reconnect not handed over twice, acks given while
// disconnected sent after reconnecting, QoS 0 and headers, topic templates and retain.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { type SinkRecord, type SourceRecord, StreamingContext } from "sluice";
import { ConnectorRegistry, SourceSession } from "sluice/advanced";
import type { ReadResult } from "sluice/connector";
import { LogCapture, ManualClock } from "sluice/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MqttSink, MqttSource, mqttSink, mqttSource } from "../../../connectors/mqtt/src/index.js";
import { runFirstBatch } from "../../support/first-batch.js";
import { BROKER_URL, client, collect, publish, takeOver, text, uniqueName } from "./broker.js";

// Only stops a wait that hangs: connecting to and reading from the broker can take seconds on a
// loaded machine.
const DEADLINE_MS = 20_000;

const encoder = new TextEncoder();
const FAST_BACKOFF = { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2, jitter: 0 };

let publisher: MqttClient;
const registries: ConnectorRegistry[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

// The hooks sit in this describe so that they run around these tests only: one file
// holds every suite of this broker.
describe("mqtt behaviour", () => {
  beforeAll(async () => {
    publisher = await client();
  });

  afterEach(async () => {
    for (const registry of registries.splice(0)) await registry.dispose();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  afterAll(async () => {
    // Disconnected already when a later suite restarted the broker.
    await publisher?.endAsync(true).catch(() => undefined);
  });

  function registry(): ConnectorRegistry {
    const created = new ConnectorRegistry({ logger: new LogCapture().logger })
      .use(mqttSource)
      .use(mqttSink);
    registries.push(created);
    return created;
  }

  /** A source with its own registry, as a job run would create it. */
  function sourceOf(config: Record<string, unknown>): MqttSource {
    const source = registry().createSource("mqtt", {
      url: BROKER_URL,
      sessionExpirySeconds: 600,
      ...config,
    }).connector;
    if (!(source instanceof MqttSource)) throw new Error("expected the MQTT source");
    return source;
  }

  function sinkOf(config: Record<string, unknown>): MqttSink {
    const sink = registry().createSink("mqtt", { url: BROKER_URL, ...config }).connector;
    if (!(sink instanceof MqttSink)) throw new Error("expected the MQTT sink");
    return sink;
  }

  /** A client id whose broker session is ended after the test. */
  function sessionId(prefix: string): string {
    const clientId = uniqueName(prefix);
    cleanups.push(async () => {
      const cleaner = await client({
        clientId,
        clean: true,
        properties: { sessionExpiryInterval: 0 },
      });
      await cleaner.endAsync();
    });
    return clientId;
  }

  /** Reads until `count` records came, keeping every result unsettled. */
  async function readAtLeast(
    session: SourceSession,
    count: number,
  ): Promise<{ records: SourceRecord[]; results: ReadResult[] }> {
    const signal = AbortSignal.timeout(10_000);
    const records: SourceRecord[] = [];
    const results: ReadResult[] = [];
    while (records.length < count) {
      const result = await session.next(signal);
      if (result === undefined) throw new Error("the source ended its input");
      signal.throwIfAborted(); // a read that keeps coming back empty must not spin forever
      results.push(result);
      records.push(...result.records);
    }
    return { records, results };
  }

  const values = (records: readonly SourceRecord[]) => records.map((record) => text(record.value));
  const ackAll = async (results: readonly ReadResult[]) => {
    for (const result of results) await result.ack();
  };

  /** What a new run of the source with `clientId` receives first, after `probe` is published. */
  async function firstAfterRestart(
    clientId: string,
    topic: string,
    probe: string,
    qos: 1 | 2,
  ): Promise<string[]> {
    const source = sourceOf({ clientId, topics: [topic], qos });
    const session = new SourceSession(source);
    await session.connect(AbortSignal.timeout(DEADLINE_MS));
    await publish(publisher, topic, [probe], qos);
    const { records, results } = await readAtLeast(session, 1);
    const received = values(records);
    while (!received.includes(probe)) {
      const more = await readAtLeast(session, 1);
      received.push(...values(more.records));
      results.push(...more.results);
    }
    await ackAll(results);
    await source.close();
    return received;
  }

  describe("mqtt source against the broker", () => {
    for (const qos of [1, 2] as const) {
      it(`acknowledges no QoS ${qos} message before ack(): unacknowledged ones come again in the next run`, async () => {
        const topic = `sluice/test/${uniqueName("hold")}`;
        const clientId = sessionId("sluice-hold");
        const first = sourceOf({ clientId, topics: [topic], qos });
        const firstSession = new SourceSession(first);
        await firstSession.connect(AbortSignal.timeout(DEADLINE_MS));
        await publish(publisher, topic, ["m0", "m1", "m2"], qos);
        const read = await readAtLeast(firstSession, 3);
        expect(values(read.records)).toEqual(["m0", "m1", "m2"]);
        await first.close();
        expect(first.metrics.acked).toBe(0);

        const second = sourceOf({ clientId, topics: [topic], qos });
        const secondSession = new SourceSession(second);
        const again = await readAtLeast(secondSession, 3);
        expect(values(again.records)).toEqual(["m0", "m1", "m2"]);
        await ackAll(again.results);
        expect(second.metrics.acked).toBe(3);
        await second.close();

        // Acknowledged now: a third run gets only what is new.
        expect(await firstAfterRestart(clientId, topic, "probe", qos)).toEqual(["probe"]);
      });
    }

    it("keeps what was published while the job was down (persistent session, stable client id)", async () => {
      const topic = `sluice/test/${uniqueName("session")}`;
      const clientId = sessionId("sluice-session");
      const first = sourceOf({ clientId, topics: [topic] });
      await first.connect(AbortSignal.timeout(DEADLINE_MS));
      await first.close();
      await publish(publisher, topic, ["p0", "p1", "p2", "p3"], 1);
      const second = sourceOf({ clientId, topics: [topic] });
      const { records, results } = await readAtLeast(new SourceSession(second), 4);
      expect(values(records)).toEqual(["p0", "p1", "p2", "p3"]);
      await ackAll(results);
    });

    it("does not hand over twice what the broker sends again after a reconnect, and acks it on the new connection", async () => {
      const topic = `sluice/test/${uniqueName("dup")}`;
      const clientId = sessionId("sluice-dup");
      const source = sourceOf({ clientId, topics: [topic] });
      const session = new SourceSession(source, { backoff: FAST_BACKOFF });
      await session.connect(AbortSignal.timeout(DEADLINE_MS));
      await publish(publisher, topic, ["d0", "d1", "d2"], 1);
      const held = await readAtLeast(session, 3);
      await takeOver(clientId);
      // The session reconnects; the broker resends d0..d2 first (same packet ids), then "fresh".
      await publish(publisher, topic, ["fresh"], 1);
      const next = await readAtLeast(session, 1);
      expect(values(next.records)).toEqual(["fresh"]);
      expect(source.metrics).toMatchObject({
        duplicatesDropped: 3,
        connects: 2,
        connectionLosses: 1,
      });
      await ackAll(held.results);
      await ackAll(next.results);
      expect(source.metrics.acked).toBe(4);
      await source.close();
      expect(await firstAfterRestart(clientId, topic, "probe", 1)).toEqual(["probe"]);
    });

    it("with cleanStart, drops the earlier run's session on start but keeps its own across a reconnect", async () => {
      const topic = `sluice/test/${uniqueName("clean")}`;
      const clientId = sessionId("sluice-clean");
      const earlier = sourceOf({ clientId, topics: [topic] });
      await earlier.connect(AbortSignal.timeout(DEADLINE_MS));
      await earlier.close();
      await publish(publisher, topic, ["old0", "old1"], 1); // kept for the earlier run's session
      const source = sourceOf({ clientId, topics: [topic], cleanStart: true });
      const session = new SourceSession(source, { backoff: FAST_BACKOFF });
      await session.connect(AbortSignal.timeout(DEADLINE_MS));
      await publish(publisher, topic, ["c0", "c1"], 1);
      const held = await readAtLeast(session, 2);
      expect(values(held.records)).toEqual(["c0", "c1"]);
      // The connection drops with c0 and c1 unacknowledged; the reconnect resumes the session.
      await takeOver(clientId);
      await publish(publisher, topic, ["c2"], 1);
      const next = await readAtLeast(session, 1);
      expect(values(next.records)).toEqual(["c2"]);
      expect(source.metrics).toMatchObject({ connects: 2, sessionsLost: 0, duplicatesDropped: 2 });
      await ackAll(held.results);
      await ackAll(next.results);
      expect(source.metrics.acked).toBe(3);
      await source.close();
      expect(await firstAfterRestart(clientId, topic, "probe", 1)).toEqual(["probe"]);
    });

    it("sends acks given while disconnected once the broker sends those messages again", async () => {
      const topic = `sluice/test/${uniqueName("pending")}`;
      const clientId = sessionId("sluice-pending");
      const source = sourceOf({ clientId, topics: [topic], qos: 2 });
      const session = new SourceSession(source);
      await session.connect(AbortSignal.timeout(DEADLINE_MS));
      await publish(publisher, topic, ["a0", "a1"], 2);
      const held = await readAtLeast(session, 2);
      await takeOver(clientId);
      await expect(source.read(AbortSignal.timeout(DEADLINE_MS))).rejects.toMatchObject({
        code: "SLUICE_NOT_CONNECTED",
        message: expect.stringContaining('The broker keeps the session of client id "'),
      });
      await ackAll(held.results);
      expect(source.metrics.acked).toBe(0);
      await source.connect(AbortSignal.timeout(DEADLINE_MS));
      await publish(publisher, topic, ["next"], 2);
      const next = await readAtLeast(session, 1);
      expect(values(next.records)).toEqual(["next"]);
      expect(source.metrics).toMatchObject({ duplicatesDropped: 2, acked: 2 });
      await ackAll(next.results);
      await source.close();
      expect(await firstAfterRestart(clientId, topic, "probe", 2)).toEqual(["probe"]);
    });

    it("receives QoS 0 messages with the topic as key and user properties as headers", async () => {
      const base = `sluice/test/${uniqueName("qos0")}`;
      const clientId = sessionId("sluice-qos0");
      const source = sourceOf({ clientId, topics: [{ filter: `${base}/+`, qos: 0 }] });
      const session = new SourceSession(source);
      await session.connect(AbortSignal.timeout(DEADLINE_MS));
      await publisher.publishAsync(`${base}/a`, "v0", {
        qos: 0,
        properties: { userProperties: { tenant: "acme" }, contentType: "text/plain" },
      });
      await publisher.publishAsync(`${base}/b`, "v1", { qos: 0 });
      const { records, results } = await readAtLeast(session, 2);
      expect(values(records)).toEqual(["v0", "v1"]);
      const [first, second] = records;
      expect(text(first?.key)).toBe(`${base}/a`);
      expect(first?.partition).toBe(`${base}/a`);
      expect(text(first?.headers.tenant)).toBe("acme");
      expect(text(first?.headers["mqtt-qos"])).toBe("0");
      expect(text(first?.headers["mqtt-content-type"])).toBe("text/plain");
      expect(Number(second?.offset)).toBeGreaterThan(Number(first?.offset));
      await ackAll(results);
      expect(source.metrics).toMatchObject({ recordsIn: 2, bytesIn: 4, acked: 0 });
    });
  });

  describe("mqtt sink against the broker", () => {
    const context = { batchTime: 1_700_000_000_000, partition: 0, idempotencyKey: "job/1/0/0" };

    it("publishes to topics built from each record, at QoS 2, retained, with user properties", async () => {
      const base = `sluice/test/${uniqueName("sink")}`;
      const collector = await collect(`${base}/#`, 2);
      cleanups.push(() => collector.close());
      const sink = sinkOf({ topic: `${base}/{key}/{header.kind}`, qos: 2, retain: true });
      await sink.connect(AbortSignal.timeout(DEADLINE_MS));
      const records: SinkRecord[] = [
        {
          value: encoder.encode("21.5"),
          key: encoder.encode("s1"),
          headers: { kind: encoder.encode("temp") },
        },
        {
          value: encoder.encode("40"),
          key: encoder.encode("s2"),
          headers: { kind: encoder.encode("hum") },
        },
      ];
      await sink.writeBatch(records, context);
      await collector.until(`${base}/s2/hum`, "40");
      const [message] = collector.messages;
      expect(message?.topic).toBe(`${base}/s1/temp`);
      expect(message?.text).toBe("21.5");
      expect(message?.packet.qos).toBe(2);
      expect(message?.packet.properties?.userProperties).toEqual({ kind: "temp" });
      expect(sink.metrics).toMatchObject({ recordsOut: 2, bytesOut: 6, batches: 1 });

      // Retained: a subscriber arriving later gets the last message of the topic.
      const late = await collect(`${base}/s1/temp`, 1);
      cleanups.push(async () => {
        await late.close();
        await publisher.publishAsync(`${base}/s1/temp`, "", { qos: 1, retain: true });
        await publisher.publishAsync(`${base}/s2/hum`, "", { qos: 1, retain: true });
      });
      await late.until(`${base}/s1/temp`, "21.5");
      expect(late.messages[0]?.packet.retain).toBe(true);
    });

    it("refuses a record its topic cannot be built for, naming the record, before publishing any", async () => {
      const base = `sluice/test/${uniqueName("bad")}`;
      const collector = await collect(`${base}/#`, 1);
      cleanups.push(() => collector.close());
      const sink = sinkOf({ topic: `${base}/{key}` });
      await sink.connect(AbortSignal.timeout(DEADLINE_MS));
      const noKey = await sink
        .writeBatch(
          [
            { value: encoder.encode("ok"), key: encoder.encode("k") },
            { value: encoder.encode("x") },
          ],
          context,
        )
        .catch((error) => error);
      expect(noKey).toMatchObject({ code: "SLUICE_INVALID_RECORD" });
      expect(noKey.message).toContain("record 1 of batch 1700000000000 (partition 0)");
      expect(noKey.message).toContain("{key} needs a record key");
      const wildcard = await sink
        .writeBatch([{ value: encoder.encode("x"), key: encoder.encode("a/+") }], context)
        .catch((error) => error);
      expect(wildcard).toMatchObject({ code: "SLUICE_INVALID_RECORD" });
      expect(wildcard.message).toContain("contains a wildcard");
      await publish(publisher, `${base}/marker`, ["marker"], 1);
      await collector.until(`${base}/marker`, "marker");
      expect(collector.messages.map((message) => message.text)).toEqual(["marker"]);
    });

    it("in a job with dead letters, sends a record its topic cannot be built for there and publishes the others", async () => {
      const base = `sluice/test/${uniqueName("divert")}`;
      const collector = await collect(`${base}/#`, 1);
      cleanups.push(() => collector.close());
      const dead = await mkdtemp(join(tmpdir(), "sluice-mqtt-dead-letters-"));
      cleanups.push(() => rm(dead, { recursive: true, force: true }));
      const clock = new ManualClock(0);
      const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
      ctx.use(mqttSink);
      ctx.deadLetters("file", { directory: dead, format: "jsonl" });
      const readings = [
        { sensor: "s1", value: 1 },
        { value: 2 },
        { sensor: "s2/+", value: 3 },
        { sensor: "s3", value: 4 },
      ].map((reading) => JSON.stringify(reading));
      ctx.queueStream([readings]).sink("mqtt", { url: BROKER_URL, topic: `${base}/{json.sensor}` });
      await runFirstBatch(ctx, clock);
      await collector.until(`${base}/s3`, readings[3] ?? "");
      expect(collector.messages.map((message) => message.topic).sort()).toEqual([
        `${base}/s1`,
        `${base}/s3`,
      ]);
      const letters = (await readdir(dead))
        .filter((name) => !name.startsWith("."))
        .map((name) => join(dead, name));
      type Letter = { record: string; error: string; batchPosition: { index: number } };
      const lines: Letter[] = [];
      for (const file of letters.sort()) {
        for (const line of (await readFile(file, "utf8")).split("\n")) {
          if (line !== "") lines.push(JSON.parse(line) as Letter);
        }
      }
      expect(lines.map((letter) => letter.record)).toEqual([readings[1], readings[2]]);
      // The sink counts in the write it refused: the second came without record 1.
      expect(lines.map((letter) => letter.error)).toEqual([
        expect.stringContaining("record 1 of batch 1000"),
        expect.stringContaining("in the batch it is record 2 of partition 0"),
      ]);
      expect(lines.map((letter) => letter.batchPosition.index)).toEqual([1, 2]);
    });
  });
});
