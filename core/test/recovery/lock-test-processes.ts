// Processes for the checkpoint folder lock's tests: a live holder in a process of its own, a
// zombie (exited, never reaped), and a plain live process whose id a stale lock may name.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, vi } from "vitest";

/** How long the waits for a process to change state may take on a loaded machine. */
const PATIENCE = { timeout: 30_000, interval: 20 };

const HOLDER = fileURLToPath(new URL("./folder-lock-holder.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Resolves with the first line of `child`'s output that `accept` takes; rejects if it exits first. */
export function lineFrom(child: ChildProcess, accept: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    let errors = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      errors += chunk;
    });
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
      const line = text.split("\n").find((candidate) => accept(candidate));
      if (line !== undefined) resolve(line);
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`the process ended first (${code ?? signal}): ${errors}`)),
    );
  });
}

/** A process holding `folder`'s lock (the real `CheckpointFolderLock`), once it says so. */
export async function startHolder(folder: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", HOLDER, folder], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  await lineFrom(child, (line) => line.startsWith("held "));
  return child;
}

/** Kills `child` with SIGKILL and resolves once it has exited and was reaped. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/**
 * A zombie: `sh` starts a `sleep` in the background and replaces itself with another, which
 * never reaps it; once the replacement runs, the background one is killed. Returns the zombie's
 * id and the process whose end lets it go.
 */
export async function startZombie(): Promise<{ pid: number; parent: ChildProcess }> {
  const parent = spawn("sh", ["-c", "sleep 300 & echo $!; exec sleep 301"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = Number(await lineFrom(parent, (line) => /^\d+$/.test(line)));
  await vi.waitFor(() => expect(commandOf(parent.pid as number)).toBe("sleep"), PATIENCE);
  process.kill(pid, "SIGKILL");
  await vi.waitFor(() => expect(processStateOf(pid)).toBe("Z"), PATIENCE);
  return { pid, parent };
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The state letter of `/proc/<pid>/stat` (`R`, `S`, `Z`, …), or `undefined` when it has none. */
export function processStateOf(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** Field 22 of `/proc/<pid>/stat`: the process's start time in ticks since boot. */
export function startTicksOf(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[19]);
}
