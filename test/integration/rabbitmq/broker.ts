// The local RabbitMQ of scripts/services (127.0.0.1:5672) as the integration tests use it: an
// admin connection to prepare and inspect queues, rabbitmqctl to drop connections and manage
// the test user, and stop/start of the broker for the server-loss test.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import amqp from "amqplib";

const run = promisify(execFile);
const SERVICES = fileURLToPath(new URL("../../../scripts/services/", import.meta.url));

export const HOST = "127.0.0.1";
export const PORT = 5672;
export const GUEST_URL = `amqp://guest:guest@${HOST}:${PORT}`;

/** A user of the tests' own, so a password appears nowhere else (the secret checks need that). */
export const TEST_USER = "sluice-test";
export const TEST_PASSWORD = `pw-${randomUUID()}`;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A name no earlier run used, for queues, exchanges and connections. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

/** Runs rabbitmqctl of the local broker (with the cookie and node name of scripts/services). */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  const script = `source "${SERVICES}lib.sh" && rabbitmq_env && "$RABBITMQ_BIN/rabbitmqctl" "$@"`;
  const { stdout } = await run("bash", ["-c", script, "rabbitmqctl", ...args], {
    timeout: 30_000,
  });
  return stdout;
}

/** Runs scripts/services/<command> for RabbitMQ only (others share the other servers). */
export async function services(command: "start" | "stop"): Promise<void> {
  await run(`${SERVICES}${command}`, ["rabbitmq"], { timeout: 180_000 });
}

/**
 * Connects as guest, or fails naming the command that starts the broker: the integration tests
 * never skip.
 */
export async function adminConnection(): Promise<ChannelModel> {
  try {
    const connection = await amqp.connect(GUEST_URL, { timeout: 5_000 });
    connection.on("error", () => undefined);
    return connection;
  } catch (error) {
    throw new Error(
      `RabbitMQ is not answering on ${HOST}:${PORT} (${error instanceof Error ? error.message : String(error)}); start it with: scripts/services/start rabbitmq`,
      { cause: error },
    );
  }
}

/** Creates (or resets the password of) the tests' user, with every permission on "/". */
export async function ensureTestUser(): Promise<void> {
  try {
    await rabbitmqctl("add_user", TEST_USER, TEST_PASSWORD);
  } catch {
    await rabbitmqctl("change_password", TEST_USER, TEST_PASSWORD);
  }
  await rabbitmqctl("set_permissions", "-p", "/", TEST_USER, ".*", ".*", ".*");
}

/** Closes, server side, every connection whose client-provided name is `connectionName`. */
export async function dropConnectionsNamed(connectionName: string): Promise<number> {
  const listing = await rabbitmqctl(
    "-q",
    "--no-table-headers",
    "list_connections",
    "pid",
    "client_properties",
  );
  const pids = listing
    .split("\n")
    .filter((line) => line.includes(`{"connection_name","${connectionName}"}`))
    .map((line) => line.split("\t")[0] ?? "");
  for (const pid of pids) {
    await rabbitmqctl("-q", "close_connection", pid, "dropped by the integration test");
  }
  return pids.length;
}

/** Publishes `values` to `queue` through the default exchange, waiting for the confirms. */
export async function produce(
  channel: ConfirmChannel,
  queue: string,
  values: readonly (Uint8Array | string)[],
): Promise<void> {
  for (const value of values) {
    const bytes = typeof value === "string" ? encoder.encode(value) : value;
    channel.sendToQueue(queue, Buffer.from(bytes), { persistent: true });
  }
  await channel.waitForConfirms();
}

/** Takes every message now in `queue` (acknowledging them), as text. */
export async function drain(channel: ConfirmChannel, queue: string): Promise<string[]> {
  const taken: string[] = [];
  for (;;) {
    const message = await channel.get(queue, { noAck: true });
    if (message === false) return taken;
    taken.push(decoder.decode(message.content));
  }
}

/** How many messages wait in `queue` (not counting those delivered and unacknowledged). */
export async function depth(channel: ConfirmChannel, queue: string): Promise<number> {
  return (await channel.checkQueue(queue)).messageCount;
}

/** Text of a record value. */
export function text(value: Uint8Array): string {
  return decoder.decode(value);
}
