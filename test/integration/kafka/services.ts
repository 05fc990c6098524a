// Control of the local servers for the Kafka and Cassandra integration suites: an exclusive
// lock per server (so a suite that restarts a server never runs beside another suite using
// it), restarts, and dropping this process's TCP connections to a server.
import { execFile, execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { lockServer } from "../../support/service-lock.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The servers these suites use. */
export type ServiceName = "kafka" | "cassandra";

/**
 * Takes the exclusive lock of `name` for this process, waiting while another test process
 * holds it (a lock whose process died is taken over). Returns the release function.
 */
export async function lockService(
  name: ServiceName,
  timeoutMs = 300_000,
): Promise<() => Promise<void>> {
  return lockServer(name, timeoutMs);
}

/** Stops the servers, in parallel (`scripts/services/stop <names>`); never any other. */
export async function stopService(...names: [ServiceName, ...ServiceName[]]): Promise<void> {
  await run(join(ROOT, "scripts/services/stop"), names, { cwd: ROOT });
}

/** Starts the servers in parallel and waits until each answers (`scripts/services/start <names>`). */
export async function startService(...names: [ServiceName, ...ServiceName[]]): Promise<void> {
  await run(join(ROOT, "scripts/services/start"), names, { cwd: ROOT, timeout: 300_000 });
}

/**
 * Drops every TCP connection this process has to `port` on loopback, as a server crash or a
 * network failure would: the kernel aborts the sockets (`ss -K`, which needs root) and the
 * clients see their connections reset. Returns how many were dropped.
 */
export function dropConnections(port: number): number {
  const listing = execFileSync("ss", ["-tnpH", "state", "established", "dport", `= :${port}`], {
    encoding: "utf8",
  });
  const ports = listing
    .split("\n")
    .filter((line) => line.includes(`pid=${process.pid},`))
    .map((line) => line.trim().split(/\s+/)[2]?.split(":").pop())
    .filter((local): local is string => local !== undefined && /^\d+$/.test(local));
  if (ports.length === 0) return 0;
  const filter = `dport = :${port} and ( ${ports.map((local) => `sport = :${local}`).join(" or ")} )`;
  execFileSync("ss", ["-K", filter], { stdio: ["ignore", "ignore", "ignore"] });
  const after = execFileSync("ss", ["-tnpH", "state", "established", "dport", `= :${port}`], {
    encoding: "utf8",
  });
  const left = ports.filter((local) => after.includes(`:${local} `));
  if (left.length > 0) {
    throw new Error(
      `could not drop the connections to port ${port} from local ports ${left.join(", ")}; ss -K needs root and a kernel with CONFIG_INET_DIAG_DESTROY`,
    );
  }
  return ports.length;
}
