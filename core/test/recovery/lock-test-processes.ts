// Processes for the checkpoint folder lock's tests: a live holder in a process of its own, a
// zombie (exited, never reaped), and a plain live process whose id a stale lock may name.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

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
 * A zombie: `sh` starts `sleep 0` in the background and replaces itself with a long `sleep`,
 * which never reaps it. Returns the zombie's id and the process whose end lets it go.
 */
export async function startZombie(): Promise<{ pid: number; parent: ChildProcess }> {
  const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 120"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = Number(await lineFrom(parent, (line) => /^\d+$/.test(line)));
  return { pid, parent };
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
