// The broker is stopped in the middle of a stream and started again: the source reconnects by
// itself, every message is output, and the messages that were unacknowledged at the loss come
// again (marked redelivered) and are settled on the new channel — never with stale tags.
import type { ChannelModel, ConfirmChannel } from "amqplib";
import type { SourceRecord } from "sluice";
import { ConnectorRegistry, SourceSession } from "sluice/advanced";
import type { ReadResult } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RabbitMqSource, rabbitmqSource } from "../../../connectors/rabbitmq/src/index.js";
import { lockServer } from "../../support/service-lock.js";
import {
  adminConnection,
  depth,
  GUEST_URL,
  produce,
  services,
  text,
  uniqueName,
} from "./broker.js";

const BACKOFF = { initialDelayMs: 100, maxDelayMs: 500, multiplier: 2, jitter: 0 };
const header = (record: SourceRecord, name: string) =>
  record.headers[name] === undefined ? undefined : text(record.headers[name]);

let registry: ConnectorRegistry | undefined;
let admin: ChannelModel | undefined;

// The hooks sit in this describe so that they run around these tests only: one file
// holds every suite of this broker.
describe("rabbitmq server loss", () => {
  let unlock: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    // Other test processes using this broker wait while it restarts (the same lock as theirs).
    unlock = await lockServer("rabbitmq");
  }, 320_000);

  afterAll(async () => {
    await unlock?.();
  });

  afterEach(async () => {
    // Whatever happened, the broker runs again for whoever comes next.
    await services("start");
    await registry?.dispose();
    await admin?.close().catch(() => undefined);
  });

  describe("rabbitmq source when the broker goes away", () => {
    it("reconnects by itself after a broker restart; every message is output, redeliveries settled", async () => {
      const queue = uniqueName("sluice-server-loss");
      const all = Array.from({ length: 60 }, (_, index) => `m${index}`);
      const [before, after] = [all.slice(0, 30), all.slice(30)];
      registry = new ConnectorRegistry({ logger: new LogCapture().logger }).use(rabbitmqSource);
      const source = registry.createSource("rabbitmq", {
        url: GUEST_URL,
        // Durable queue and persistent messages: what survives a broker restart.
        queue: { name: queue, durable: true },
        prefetch: 100,
        maxRecordsPerRead: 10,
      }).connector;
      if (!(source instanceof RabbitMqSource)) throw new Error("expected the RabbitMQ source");
      const session = new SourceSession(source, { backoff: BACKOFF });
      const output: SourceRecord[] = [];
      const signal = AbortSignal.timeout(90_000);

      admin = await adminConnection();
      let channel: ConfirmChannel = await admin.createConfirmChannel();
      await session.connect(signal);
      await produce(channel, queue, before);

      // Output the first 30, acknowledging every read but the last: a batch still in flight.
      const results: ReadResult[] = [];
      while (output.length < before.length) {
        const result = await session.next(signal);
        if (result === undefined) throw new Error("the source ended its input");
        output.push(...result.records);
        results.push(result);
      }
      const inFlight = results.pop();
      for (const result of results) await result.ack();
      const unacknowledged = (inFlight?.records ?? []).map((record) => text(record.value));
      expect(unacknowledged.length).toBeGreaterThan(0);

      await services("stop");
      // The batch in flight completes while the broker is down: its acks are stale now.
      await inFlight?.ack();
      expect(source.metrics.staleSettles).toBe(unacknowledged.length);

      // Sluice's receive loop keeps going: it reconnects with backoff until the broker is back.
      const consuming = (async () => {
        const wanted = new Set(all);
        for (const record of output) wanted.delete(text(record.value));
        while (wanted.size > 0) {
          const result = await session.next(signal);
          if (result === undefined) throw new Error("the source ended its input");
          output.push(...result.records);
          for (const record of result.records) wanted.delete(text(record.value));
          await result.ack();
        }
      })();
      await services("start");
      admin = await adminConnection();
      channel = await admin.createConfirmChannel();
      await produce(channel, queue, after);
      await consuming;

      const values = output.map((record) => text(record.value));
      expect(new Set(values)).toEqual(new Set(all));
      // The only repeats are the messages unacknowledged at the loss, once each, marked redelivered.
      const repeats = output.filter((_, index) => values.indexOf(values[index] ?? "") !== index);
      expect(repeats.map((record) => text(record.value)).sort()).toEqual(
        [...unacknowledged].sort(),
      );
      expect(repeats.every((record) => header(record, "amqp-redelivered") === "true")).toBe(true);
      expect(source.metrics).toMatchObject({ connectionLosses: 1, connects: 2 });
      expect(session.reconnects).toBeGreaterThanOrEqual(1);

      // Everything was acknowledged on the new channel: nothing is left in the queue.
      await source.close();
      expect(await depth(channel, queue)).toBe(0);
      await channel.deleteQueue(queue);
    }, 120_000);
  });
});
