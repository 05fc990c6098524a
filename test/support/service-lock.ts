// An exclusive lock per local server across test processes, so that a suite restarting a
// server never runs beside another suite (or chaos test) using it: a directory per server under
// the system's temporary folder, holding the owner's PID; a lock whose process died is taken
// over. The integration suites and the chaos tests all take their locks here.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const LOCKS = join(tmpdir(), "sluice-service-locks");

/** A local server the suites use. */
export type ServerName = "cassandra" | "kafka" | "mosquitto" | "rabbitmq";

/**
 * Takes the lock of `name` for this process, waiting while another process holds it.
 * Resolves with the function that releases it.
 *
 * @example
 * const release = await lockServer("rabbitmq");
 */
export async function lockServer(
  name: ServerName,
  timeoutMs = 300_000,
): Promise<() => Promise<void>> {
  await mkdir(LOCKS, { recursive: true });
  const path = join(LOCKS, name);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(path);
      await writeFile(join(path, "owner"), String(process.pid));
      return async () => {
        await rm(path, { recursive: true, force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number(await readFile(join(path, "owner"), "utf8").catch(() => "0"));
    if (owner === process.pid) throw new Error(`this process already holds the ${name} lock`);
    if (owner > 0 && !alive(owner)) {
      await rm(path, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`waited ${timeoutMs} ms for the ${name} lock held by process ${owner}`);
    }
    // Another test process holds it: look again shortly.
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Takes the locks of `servers` in name order (so two takers never wait on each other);
 * resolves with the function releasing them.
 *
 * @example
 * const release = await lockServers(["kafka", "cassandra"]);
 */
export async function lockServers(
  servers: readonly ServerName[],
  timeoutMs = 300_000,
): Promise<() => Promise<void>> {
  const releases: (() => Promise<void>)[] = [];
  for (const server of [...servers].sort()) releases.push(await lockServer(server, timeoutMs));
  return async () => {
    for (const release of releases.reverse()) await release();
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
