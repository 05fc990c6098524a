// The set-up of a RabbitMQ test file that holds the local broker's lock while it runs (it
// changes what every client of the broker sees: a proxy in front of it, an alarm): the lock, an
// admin confirm channel, queues made per test and whatever each test asks to clean up after it.
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { afterAll, afterEach, beforeAll } from "vitest";
import { lockServer } from "../../support/service-lock.js";
import { adminConnection, uniqueName } from "./broker.js";

/** What a test of a file holding the broker's lock uses. */
export interface LockedBroker {
  /** The admin connection's confirm channel, to declare, inspect and drain queues. */
  channel(): ConfirmChannel;
  /** A new non-durable queue named after `prefix`, deleted after the test. */
  newQueue(prefix: string): Promise<string>;
  /** Runs `cleanup` after the test (the last added first). */
  afterTest(cleanup: () => Promise<unknown>): void;
}

/**
 * Registers the file's hooks: the broker's lock and an admin channel for the whole file
 * (failing loudly, naming the start command, when the broker is not running), the cleanups
 * after each test. `restore` runs first after each test and after the file, before anything
 * waits on the broker (taking a proxy out of the way, clearing an alarm).
 *
 * @example
 * const broker = useLockedBroker(() => clearAlarm());
 * const queue = await broker.newQueue("sluice-blocked");
 */
export function useLockedBroker(restore: () => unknown = () => undefined): LockedBroker {
  const cleanups: (() => Promise<unknown>)[] = [];
  let unlock: (() => Promise<void>) | undefined;
  let admin: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;

  beforeAll(async () => {
    // The server-loss suite stops this broker; it waits while this file runs.
    unlock = await lockServer("rabbitmq");
    admin = await adminConnection();
    channel = await admin.createConfirmChannel();
  }, 320_000);

  afterAll(async () => {
    await restore();
    await admin?.close();
    await unlock?.();
  });

  afterEach(async () => {
    await restore();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const open = (): ConfirmChannel => {
    if (channel === undefined) throw new Error("the broker's admin channel is not open yet");
    return channel;
  };
  return {
    channel: open,
    async newQueue(prefix) {
      const queue = uniqueName(prefix);
      await open().assertQueue(queue, { durable: false });
      cleanups.push(() => open().deleteQueue(queue));
      return queue;
    },
    afterTest(cleanup) {
      cleanups.push(cleanup);
    },
  };
}
