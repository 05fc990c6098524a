// Two processes run the same job consuming one RabbitMQ queue (competing consumers), each with
// its own checkpoint folder. The broker spreads the messages over them; one is killed with SIGKILL
// mid-run, its unacknowledged messages go to the other (marked redelivered), and it is restarted.
// Every message must be output by the group, none lost; a message can be output twice only when
// it was redelivered (killed between its write-ahead log entry and the broker getting its
// acknowledgement), so the group's output is exact once keyed by message id. Needs the local
// RabbitMQ (scripts/services/start rabbitmq); fails when it is not there.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobProcess } from "../chaos/job-process.js";
import { lockServer } from "../support/service-lock.js";
import {
  messageIds,
  outputIds,
  processedBy,
  readOutput,
  runName,
  startMember,
  tally,
  waitUntil,
} from "./support/broker-group.js";
import type { BrokerMemberSettings } from "./support/broker-member-settings.js";
import {
  AMQP_URL,
  declareQueue,
  dropQueue,
  publishMessages,
  type QueueAdmin,
  readyMessages,
} from "./support/broker-rabbitmq.js";

const MESSAGES = 20_000;
/**
 * The killed member has output at least this many when it is killed: at 1 000 records a second at
 * most, seconds before it could have done its share.
 */
const KILL_AFTER = 1_000;

describe("RabbitMQ competing consumers across processes", () => {
  let release: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    // No server-loss suite may restart RabbitMQ meanwhile.
    release = await lockServer("rabbitmq");
  });
  afterAll(async () => {
    await release?.();
  });

  it("spreads a queue over two processes; a member killed mid-run leaves its unacknowledged messages to the other; every id is output, copies only of redelivered ones", async () => {
    const run = runName("rabbitmq-group");
    const folder = await mkdtemp(join(tmpdir(), "sluice-rabbitmq-group-"));
    const queue = `sluice-cluster-${run}`;
    const settings = (member: "a" | "b", maxRate = 4_000): BrokerMemberSettings => ({
      member,
      source: { kind: "rabbitmq", url: AMQP_URL, queue, prefetch: 1_000 },
      checkpoint: join(folder, member, "checkpoint"),
      output: join(folder, member, "out"),
      batchIntervalMs: 200,
      maxRate,
    });
    const outputs = [settings("a").output, settings("b").output];
    const ids = messageIds(run, MESSAGES);
    const published = new Set(ids);
    const members: JobProcess[] = [];
    let admin: QueueAdmin | undefined;
    try {
      admin = await declareQueue(queue);
      // The member to be killed is held to 1 000 records a second: it is mid-run when killed.
      const a = startMember(settings("a", 1_000));
      const b = startMember(settings("b", 2_000));
      members.push(a, b);
      // Both running before anything is published: neither can take the other's share alone.
      await waitUntil(
        () => a.stdout.includes("started") && b.stdout.includes("started"),
        "both members started",
        [a, b],
      );
      await publishMessages(admin, queue, ids);

      await waitUntil(
        () => processedBy(a) >= KILL_AFTER && processedBy(b) > 0,
        "output from both members",
        [a, b],
      );
      const beforeKill = { a: processedBy(a), b: processedBy(b) };
      expect(beforeKill.b).toBeGreaterThan(0);
      a.signal("SIGKILL");
      expect((await a.exited).signal).toBe("SIGKILL");

      // The broker puts what the killed member held unacknowledged back in the queue, and the
      // member that stayed up receives it, marked redelivered, before the killed one is back.
      await waitUntil(
        async () => (await readOutput(settings("b").output)).some((row) => row.redelivered),
        "a redelivered message output by the member that stayed up",
        [b],
        async () => `${(await outputIds(outputs)).size} ids output`,
      );
      const restarted = startMember(settings("a"));
      members.push(restarted);
      await waitUntil(
        async () =>
          processedBy(a) + processedBy(restarted) + processedBy(b) >= published.size &&
          (await outputIds(outputs)).size >= published.size,
        "every id output",
        [restarted, b],
        async () =>
          `${(await outputIds(outputs)).size} ids output; processed: a ${processedBy(a)}, restarted a ${processedBy(restarted)}, b ${processedBy(b)}`,
      );
      restarted.signal("SIGTERM");
      b.signal("SIGTERM");
      expect(await restarted.exited).toEqual({ code: 0, signal: null });
      expect(await b.exited).toEqual({ code: 0, signal: null });

      const result = tally(published, {
        a: await readOutput(settings("a").output),
        b: await readOutput(settings("b").output),
      });
      console.info(
        `rabbitmq group: ${published.size} published; output lines per member ${JSON.stringify(result.lines)} (b had ${beforeKill.b}, a ${beforeKill.a} when a was killed); redelivered and output ${JSON.stringify(result.redelivered)}; lost ${result.lost}, output twice ${result.duplicates}`,
      );
      expect(result.lost).toBe(0);
      expect(result.unexpected).toBe(0);
      expect(result.redelivered.b).toBeGreaterThan(0);
      // A copy comes only from a redelivery: the killed member had it in its write-ahead log
      // (and output it on recovery) while the broker, without its acknowledgement, gave it to the
      // other member. At most what the killed member had read and not acknowledged: one read.
      expect(result.duplicated.filter((copy) => !copy.redeliveredCopy)).toEqual([]);
      expect(result.duplicates).toBeLessThanOrEqual(1_000);
      expect(await readyMessages(admin, queue)).toBe(0);
    } finally {
      for (const member of members) member.signal("SIGKILL");
      await Promise.all(members.map((member) => member.exited));
      if (admin !== undefined) await dropQueue(admin, queue);
      // CLUSTER_KEEP=1 keeps the members' checkpoints and outputs for inspection.
      if (process.env.CLUSTER_KEEP === "1") console.info(`kept ${folder}`);
      else await rm(folder, { recursive: true, force: true });
    }
  }, 180_000);
});
