// Two processes run the same job on one MQTT 5 shared subscription ($share/<group>/<topic>), each
// with its own client id, persistent session and checkpoint folder. The broker splits the messages
// between them; one is killed with SIGKILL mid-run and restarted with the same client id, and every
// message must be output exactly once by the group. Needs the local Mosquitto
// (scripts/services/start mosquitto); fails when it is not there.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retireSharedMember } from "../../connectors/mqtt/src/index.js";
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
  forgetSessions,
  hasSession,
  MQTT_URL,
  prepareSharedSessions,
  publishEvents,
  publisher,
} from "./support/broker-mqtt.js";

/** Published before the kill, and while the killed member is down. */
const FIRST_WAVE = 18_000;
const WHILE_DOWN = 2_000;
/**
 * The killed member has output at least this many when it is killed: at 1 000 records a second at
 * most, seconds before it could have done its share.
 */
const KILL_AFTER = 1_000;

describe("an MQTT shared subscription across processes", () => {
  let release: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    // No server-loss suite may restart Mosquitto meanwhile.
    release = await lockServer("mosquitto");
  });
  afterAll(async () => {
    await release?.();
  });

  it("splits the messages between two processes; a member killed mid-run gets its unacknowledged messages again when it restarts with its client id; every id is output once", async () => {
    const run = runName("mqtt-group");
    const folder = await mkdtemp(join(tmpdir(), "sluice-mqtt-group-"));
    const topic = `sluice/cluster/${run}/events`;
    const filter = `$share/${run}/${topic}`;
    const clientIds = { a: `${run}-a`, b: `${run}-b` };
    const settings = (member: "a" | "b", maxRate = 4_000): BrokerMemberSettings => ({
      member,
      source: { kind: "mqtt", url: MQTT_URL, clientId: clientIds[member], filter },
      checkpoint: join(folder, member, "checkpoint"),
      output: join(folder, member, "out"),
      batchIntervalMs: 200,
      maxRate,
    });
    const outputs = [settings("a").output, settings("b").output];
    const first = messageIds(run, FIRST_WAVE);
    const whileDown = messageIds(run, WHILE_DOWN, FIRST_WAVE);
    const published = new Set([...first, ...whileDown]);
    const members: JobProcess[] = [];
    const client = await publisher();
    try {
      await prepareSharedSessions(Object.values(clientIds), filter);
      // The member to be killed is held to 1 000 records a second: it is mid-run when killed.
      const a = startMember(settings("a", 1_000));
      const b = startMember(settings("b", 4_000));
      members.push(a, b);
      // Both running before anything is published: neither can take the other's share alone.
      await waitUntil(
        () => a.stdout.includes("started") && b.stdout.includes("started"),
        "both members started",
        [a, b],
      );
      await publishEvents(client, topic, first);

      await waitUntil(
        () => processedBy(a) >= KILL_AFTER && processedBy(b) > 0,
        "output from both members",
        [a, b],
      );
      const beforeKill = { a: processedBy(a), b: processedBy(b) };
      expect(beforeKill.b).toBeGreaterThan(0);
      a.signal("SIGKILL");
      expect((await a.exited).signal).toBe("SIGKILL");

      // Mosquitto keeps picking the dead member's session in turn: its share waits there.
      await publishEvents(client, topic, whileDown);
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

      const rowsOfA = await readOutput(settings("a").output);
      const result = tally(published, { a: rowsOfA, b: await readOutput(settings("b").output) });
      const idsOfA = new Set(rowsOfA.map((row) => row.id));
      const whileDownToA = whileDown.filter((id) => idsOfA.has(id)).length;
      console.info(
        `mqtt group: ${published.size} published; output lines per member ${JSON.stringify(result.lines)} (b had ${beforeKill.b}, a ${beforeKill.a} when a was killed); redelivered and output ${JSON.stringify(result.redelivered)}; ${whileDownToA} of the ${WHILE_DOWN} published while a was down went to a's session; lost ${result.lost}, duplicates ${result.duplicates}`,
      );
      expect(result.lost).toBe(0);
      expect(result.unexpected).toBe(0);
      // Checkpointed members drop redelivered copies their write-ahead log holds, by message id,
      // and the file sink overwrites a replayed batch: once, though the broker redelivered.
      expect(result.duplicates).toBe(0);
      // What the killed member held unacknowledged came back to its own session, marked DUP,
      // never to the member that stayed up.
      expect(result.redelivered.a).toBeGreaterThan(0);
      expect(result.redelivered.b).toBe(0);
      expect(whileDownToA).toBeGreaterThan(0);
    } finally {
      for (const member of members) member.signal("SIGKILL");
      await Promise.all(members.map((member) => member.exited));
      await client.endAsync();
      await forgetSessions(Object.values(clientIds));
      // CLUSTER_KEEP=1 keeps the members' checkpoints and outputs for inspection.
      if (process.env.CLUSTER_KEEP === "1") console.info(`kept ${folder}`);
      else await rm(folder, { recursive: true, force: true });
    }
  }, 180_000);
  it("scales down: a member stopped gracefully and retired hands what its session got meanwhile to the rest of the group; every id output once", async () => {
    const run = runName("mqtt-retire");
    const folder = await mkdtemp(join(tmpdir(), "sluice-mqtt-retire-"));
    const topic = `sluice/cluster/${run}/events`;
    const filter = `$share/${run}/${topic}`;
    const clientIds = { a: `${run}-a`, b: `${run}-b` };
    const settings = (member: "a" | "b"): BrokerMemberSettings => ({
      member,
      source: { kind: "mqtt", url: MQTT_URL, clientId: clientIds[member], filter },
      checkpoint: join(folder, member, "checkpoint"),
      output: join(folder, member, "out"),
      batchIntervalMs: 200,
      maxRate: 2_000,
    });
    const outputs = [settings("a").output, settings("b").output];
    const beforeStop = messageIds(run, 4_000);
    const afterStop = messageIds(run, 2_000, 4_000);
    const published = new Set([...beforeStop, ...afterStop]);
    const members: JobProcess[] = [];
    const client = await publisher();
    try {
      await prepareSharedSessions(Object.values(clientIds), filter);
      const a = startMember(settings("a"));
      const b = startMember(settings("b"));
      members.push(a, b);
      await waitUntil(
        () => a.stdout.includes("started") && b.stdout.includes("started"),
        "both members started",
        [a, b],
      );
      await publishEvents(client, topic, beforeStop);
      await waitUntil(() => processedBy(a) > 0 && processedBy(b) > 0, "output from both members", [
        a,
        b,
      ]);
      a.signal("SIGTERM");
      expect(await a.exited).toEqual({ code: 0, signal: null });
      // Mosquitto still picks the stopped member's session in turn.
      await publishEvents(client, topic, afterStop);

      const retired = await retireSharedMember({
        url: MQTT_URL,
        clientId: clientIds.a,
        topics: [filter],
      });
      expect(retired.sessionFound).toBe(true);
      // At least its share of what came after it stopped; also what it had received unread.
      expect(retired.republished).toBeGreaterThanOrEqual(afterStop.length / 2);
      await waitUntil(
        async () => (await outputIds(outputs)).size >= published.size,
        "every id output",
        [b],
        async () => `${(await outputIds(outputs)).size} ids output`,
      );
      b.signal("SIGTERM");
      expect(await b.exited).toEqual({ code: 0, signal: null });

      const result = tally(published, {
        a: await readOutput(settings("a").output),
        b: await readOutput(settings("b").output),
      });
      console.info(
        `mqtt scale-down: ${published.size} published; output lines per member ${JSON.stringify(result.lines)}; ${retired.republished} handed over by retiring a; lost ${result.lost}, duplicates ${result.duplicates}`,
      );
      expect(result.lost).toBe(0);
      expect(result.unexpected).toBe(0);
      expect(result.duplicates).toBe(0);
      // The session is gone: a client with the member's id finds none.
      expect(await hasSession(clientIds.a)).toBe(false);
    } finally {
      for (const member of members) member.signal("SIGKILL");
      await Promise.all(members.map((member) => member.exited));
      await client.endAsync();
      await forgetSessions(Object.values(clientIds));
      if (process.env.CLUSTER_KEEP === "1") console.info(`kept ${folder}`);
      else await rm(folder, { recursive: true, force: true });
    }
  }, 180_000);
});
