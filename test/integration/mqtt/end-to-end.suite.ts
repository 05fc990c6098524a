// End to end: lines published at QoS 1 with mqtt.js while the job is not running yet (kept by
// the broker in the job's persistent session), a Sluice word count reading them through
// ctx.source("mqtt"), per-batch counts in the file sink and running totals in Cassandra, both
// compared with the counts of what was published; afterwards the session holds nothing, so
// every message was acknowledged once its batch was output.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "cassandra-driver";
import { closeConnectorsOf, StreamingContext } from "sluice";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cassandraSink } from "../../../connectors/cassandra/src/index.js";
import { mqttSource } from "../../../connectors/mqtt/src/index.js";
import {
  uniqueName as cassandraName,
  connectClient,
  createKeyspace,
} from "../cassandra/cassandra-helpers.js";
import { lockService } from "../kafka/services.js";
import {
  cassandraTotals,
  countWords,
  fileCounts,
  lines,
  untilCounted,
  type WordCountOutputs,
  wordCount,
} from "../rabbitmq/word-count.js";
import { BROKER_URL, client, publish, uniqueName } from "./broker.js";

const decoder = new TextDecoder();

// The hooks sit in this describe so that they run around these tests only: one file
// holds every suite of this broker.
describe("mqtt end to end", () => {
  let cassandra: Client;
  let unlockCassandra: (() => Promise<void>) | undefined;
  let outputs: WordCountOutputs;

  beforeAll(async () => {
    // The Cassandra server-loss suite restarts the node; never run beside it.
    unlockCassandra = await lockService("cassandra");
    cassandra = await connectClient();
    outputs = {
      keyspace: cassandraName("mqtt_e2e"),
      table: "word_totals",
      directory: await mkdtemp(join(tmpdir(), "sluice-mqtt-e2e-")),
    };
    await createKeyspace(cassandra, outputs.keyspace);
  }, 360_000);

  afterAll(async () => {
    if (outputs !== undefined) {
      await cassandra
        ?.execute(`DROP KEYSPACE IF EXISTS ${outputs.keyspace}`)
        .catch(() => undefined);
      await rm(outputs.directory, { recursive: true, force: true });
    }
    await cassandra?.shutdown();
    await unlockCassandra?.();
  });

  it("counts the words published to a topic exactly, and acknowledges every message", async () => {
    const topic = `sluice/e2e/${uniqueName("lines")}`;
    const clientId = uniqueName("sluice-e2e-job");
    const session = { clientId, clean: false, properties: { sessionExpiryInterval: 600 } };
    const published = lines(400, 11);
    const truth = countWords(published);

    // The job's session exists before it runs (as after an earlier run): what is published
    // meanwhile waits in it.
    const earlier = await client(session);
    await earlier.subscribeAsync(topic, { qos: 1 });
    await earlier.endAsync();
    const publisher = await client();
    await publish(publisher, topic, published, 1);

    const ctx = new StreamingContext({ batchInterval: 250, appName: "mqtt-word-count" });
    ctx.use(mqttSource, cassandraSink);
    wordCount(
      ctx.source("mqtt", {
        url: BROKER_URL,
        clientId,
        topics: [topic],
        qos: 1,
        sessionExpirySeconds: 600,
        maxRecordsPerRead: 50,
      }),
      outputs,
    );
    await ctx.start();
    try {
      const words = [...truth.values()].reduce((a, b) => a + b, 0);
      await untilCounted(outputs.directory, words, 60_000);
    } finally {
      await ctx.stop({ graceful: true });
      await closeConnectorsOf(ctx);
    }

    expect(await fileCounts(outputs.directory)).toEqual(truth);
    expect(await cassandraTotals(cassandra, outputs)).toEqual(truth);

    // Joining the session again: the first message must be a new one, nothing left unacknowledged.
    let firstMessage: (text: string) => void = () => undefined;
    const first = new Promise<string>((resolve) => {
      firstMessage = resolve;
    });
    const after = await client({
      ...session,
      customHandleAcks: (_topic, message, _packet, done) => {
        firstMessage(decoder.decode(message));
        done(0);
      },
    });
    await publish(publisher, topic, ["probe"], 1);
    expect(await first).toBe("probe");
    const cleaner = await client({
      clientId,
      clean: true,
      properties: { sessionExpiryInterval: 0 },
    });
    await Promise.all([after.endAsync(true), cleaner.endAsync(), publisher.endAsync()]);
  }, 120_000);
});
