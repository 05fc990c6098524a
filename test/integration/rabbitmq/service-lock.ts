// An exclusive lock per local server across test processes, so that a suite restarting a
// server never runs beside another suite using it. The same protocol as lockService of
// test/integration/kafka/services.ts (a directory per server under the system's temporary
// folder, holding the owner's PID; a lock whose process died is taken over), so that suites
// of either kind exclude each other.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const LOCKS = join(tmpdir(), "sluice-service-locks");

/**
 * Takes the lock of `name` for this process, waiting while another process holds it.
 * Resolves with the function that releases it.
 */
export async function lockServer(
  name: "rabbitmq" | "mosquitto",
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
