import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";

/**
 * Who a process is, well enough to tell later whether it still runs: its id alone is not enough
 * (ids are reused, and a killed process not yet reaped still answers `kill(pid, 0)`), so on
 * Linux the boot, the pid namespace and the process's start time (in clock ticks since boot)
 * come with it.
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly host: string;
  /** `/proc/sys/kernel/random/boot_id`: a new one after every reboot (Linux). */
  readonly bootId?: string;
  /** The pid namespace (`/proc/self/ns/pid`): ids mean the same only inside one (Linux). */
  readonly pidNamespace?: string;
  /** Field 22 of `/proc/<pid>/stat`: when the process started, in ticks since boot (Linux). */
  readonly startTicks?: number;
}

/** What can be told of a process from this one. */
export type ProcessLiveness = "alive" | "gone" | "unknown";

/**
 * This process's identity.
 *
 * @example
 * const me = currentProcessIdentity(); // { pid: 4242, host: "ingest-1", bootId: "…", startTicks: 81234 }
 */
export function currentProcessIdentity(): ProcessIdentity {
  const bootId = readTrimmed("/proc/sys/kernel/random/boot_id");
  const pidNamespace = readLink("/proc/self/ns/pid");
  const startTicks = statOf(process.pid)?.startTicks;
  return {
    pid: process.pid,
    host: hostname(),
    ...(bootId === undefined ? {} : { bootId }),
    ...(pidNamespace === undefined ? {} : { pidNamespace }),
    ...(startTicks === undefined ? {} : { startTicks }),
  };
}

/**
 * Whether the process `other` names still runs, seen from the process `self` names: `"gone"`
 * when it has exited (a zombie, not yet reaped, counts as gone: it runs no code and holds no
 * files open) or its id now belongs to a later process; `"unknown"` when it runs elsewhere (another
 * host, boot or pid namespace), where this process cannot look.
 *
 * @example
 * livenessOf(holder, currentProcessIdentity()); // "gone" after the holder was killed
 */
export function livenessOf(other: ProcessIdentity, self: ProcessIdentity): ProcessLiveness {
  if (other.host !== self.host || other.bootId !== self.bootId) {
    // The same host after a reboot: every process of the earlier boot is gone.
    if (other.host === self.host && other.bootId !== undefined && self.bootId !== undefined) {
      return "gone";
    }
    return "unknown";
  }
  if (other.pidNamespace !== self.pidNamespace) return "unknown";
  if (self.startTicks !== undefined) {
    // `/proc` is there: it tells exited, reaped, reused and zombie apart.
    const stat = statOf(other.pid);
    if (stat === undefined || stat.state === "Z" || stat.state === "X") return "gone";
    if (other.startTicks !== undefined && stat.startTicks !== other.startTicks) return "gone";
    return "alive";
  }
  try {
    process.kill(other.pid, 0);
    return "alive";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH" ? "gone" : "alive";
  }
}

interface ProcessStat {
  readonly state: string;
  readonly startTicks: number;
}

function statOf(pid: number): ProcessStat | undefined {
  const text = readTrimmed(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTicks = Number(fields[19]);
  if (state === undefined || !Number.isSafeInteger(startTicks)) return undefined;
  return { state, startTicks };
}

function readTrimmed(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
