// The per-server locks of the integration suites (a directory per server under the system's
// temporary folder holding the owner's PID; a dead owner's lock is taken over), so that a suite
// restarting a server never does so while a chaos test uses it. Take them in name order.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const LOCKS = join(tmpdir(), "sluice-service-locks");

/** A local server the chaos tests use. */
export type Server = "cassandra" | "kafka" | "mosquitto" | "rabbitmq";

/** Takes the locks of `servers` (in name order); resolves with the function releasing them. */
export async function lockServers(
  servers: readonly Server[],
  timeoutMs = 300_000,
): Promise<() => Promise<void>> {
  const releases: (() => Promise<void>)[] = [];
  for (const server of [...servers].sort()) releases.push(await lock(server, timeoutMs));
  return async () => {
    for (const release of releases.reverse()) await release();
  };
}

async function lock(name: Server, timeoutMs: number): Promise<() => Promise<void>> {
  await mkdir(LOCKS, { recursive: true });
  const path = join(LOCKS, name);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(path);
      await writeFile(join(path, "owner"), String(process.pid));
      return () => rm(path, { recursive: true, force: true });
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
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
