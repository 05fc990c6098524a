// The broker is stopped in the middle of a stream and started again. Mosquitto here runs with
// `persistence true`, so the session survives the restart: what this shows is that the source
// reconnects by itself, subscribes again, loses nothing it had received, recognises the
// in-flight read the broker sends again, outputs what is published once the broker is back, and
// still acknowledges nothing before ack() (checked across a restart of the connector afterwards).
import type { MqttClient } from "mqtt";
import type { SourceRecord } from "sluice";
import { ConnectorRegistry, SourceSession } from "sluice/advanced";
import type { ReadResult } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MqttSource, mqttSource } from "../../../connectors/mqtt/src/index.js";
import { lockServer } from "../../support/service-lock.js";
import { BROKER_URL, client, publish, services, text, uniqueName } from "./broker.js";

const BACKOFF = { initialDelayMs: 50, maxDelayMs: 300, multiplier: 2, jitter: 0 };

const registries: ConnectorRegistry[] = [];
let publisher: MqttClient | undefined;

// The hooks sit in this describe so that they run around these tests only: one file
// holds every suite of this broker.
describe("mqtt server loss", () => {
  let unlock: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    // Other test processes using this broker wait while it restarts (the same lock as theirs).
    unlock = await lockServer("mosquitto");
  }, 320_000);

  afterAll(async () => {
    await unlock?.();
  });

  afterEach(async () => {
    // Whatever happened, the broker runs again for whoever comes next.
    await services("start");
    for (const registry of registries.splice(0)) await registry.dispose();
    await publisher?.endAsync(true).catch(() => undefined);
  });

  function sourceOf(clientId: string, topic: string): MqttSource {
    const registry = new ConnectorRegistry({
      logger: new LogCapture().logger,
    }).use(mqttSource);
    registries.push(registry);
    const source = registry.createSource("mqtt", {
      url: BROKER_URL,
      clientId,
      topics: [topic],
      qos: 1,
      sessionExpirySeconds: 600,
      maxRecordsPerRead: 5,
    }).connector;
    if (!(source instanceof MqttSource)) throw new Error("expected the MQTT source");
    return source;
  }

  /** Reads until every value of `wanted` came, acknowledging each read after "outputting" it. */
  async function consume(
    session: SourceSession,
    wanted: readonly string[],
    output: SourceRecord[],
    signal: AbortSignal,
    { holdLast = false } = {},
  ): Promise<ReadResult | undefined> {
    const missing = new Set(wanted);
    let held: ReadResult | undefined;
    while (missing.size > 0) {
      const result = await session.next(signal);
      if (result === undefined) throw new Error("the source ended its input");
      output.push(...result.records);
      for (const record of result.records) missing.delete(text(record.value));
      if (held !== undefined) await held.ack();
      held = result;
    }
    if (!holdLast) await held?.ack();
    return holdLast ? held : undefined;
  }

  describe("mqtt source when the broker goes away", () => {
    it("reconnects and subscribes again by itself after a broker restart; nothing received is lost, nothing acknowledged early", async () => {
      const topic = `sluice/server-loss/${uniqueName("t")}`;
      const clientId = uniqueName("sluice-server-loss");
      const before = Array.from({ length: 20 }, (_, index) => `b${index}`);
      const after = Array.from({ length: 20 }, (_, index) => `a${index}`);
      const signal = AbortSignal.timeout(60_000);
      const output: SourceRecord[] = [];

      const source = sourceOf(clientId, topic);
      const session = new SourceSession(source, { backoff: BACKOFF });
      await session.connect(signal);
      publisher = await client();
      await publish(publisher, topic, before, 1);
      // The last read stays unacknowledged: a batch in flight when the broker goes.
      const inFlight = await consume(session, before, output, signal, { holdLast: true });

      await services("stop");
      await expect(source.read(signal)).rejects.toMatchObject({ code: "SLUICE_NOT_CONNECTED" });
      // The batch completes while the broker is down: the ack waits for a connection.
      await inFlight?.ack();
      const ackedBeforeLoss = source.metrics.acked;

      // Sluice's receive loop keeps going: it reconnects with backoff until the broker is back.
      const consuming = consume(session, after, output, signal, { holdLast: true });
      await services("start");
      // Publish once the source is connected again, so the messages reach a live subscription.
      await expect.poll(() => source.metrics.connects, { timeout: 20_000 }).toBe(2);
      publisher = await client();
      await publish(publisher, topic, after, 1);
      const lastRead = await consuming;

      const values = output.map((record) => text(record.value));
      expect(values).toEqual([...before, ...after]);
      // The broker keeps the persistent session across its restart (scripts/services runs it with
      // persistence on): it gives the in-flight read again, the source recognises the copies as
      // already received (not output twice) and answers them with the ack given while the broker
      // was down.
      expect(source.metrics).toMatchObject({ connectionLosses: 1, connects: 2, sessionsLost: 0 });
      const inFlightCount = inFlight?.records.length ?? 0;
      expect(inFlightCount).toBeGreaterThan(0);
      expect(source.metrics.duplicatesDropped).toBe(inFlightCount);
      // The last read is still unacknowledged; everything else was acknowledged once.
      const heldBack = (lastRead?.records ?? []).map((record) => text(record.value));
      expect(heldBack.length).toBeGreaterThan(0);
      expect(source.metrics.acked).toBe(
        ackedBeforeLoss + inFlightCount + after.length - heldBack.length,
      );
      expect(source.metrics.staleAcks).toBe(0);

      // The broker gives the unacknowledged read again to the next run.
      await source.close();
      const rerun = sourceOf(clientId, topic);
      const again: SourceRecord[] = [];
      await consume(new SourceSession(rerun, { backoff: BACKOFF }), heldBack, again, signal);
      expect(again.map((record) => text(record.value))).toEqual(heldBack);
      await rerun.close();
      const cleaner = await client({
        clientId,
        clean: true,
        properties: { sessionExpiryInterval: 0 },
      });
      await cleaner.endAsync();
    }, 60_000);
  });
});
