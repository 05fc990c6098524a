// The checkpoint folder's lock: one run per folder, and a restart takes the folder over at once
// from a holder that is gone — killed, a zombie not yet reaped, or a process id now reused —
// while a live holder keeps it, on this host or (by its heartbeat) on another.
import type { ChildProcess } from "node:child_process";
import { readdir, readFile, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SluiceError } from "../../src/errors/sluice-error.js";
import {
  CheckpointFolderLock,
  type CheckpointFolderLockOptions,
  type LockHolder,
} from "../../src/recovery/checkpoint-folder-lock.js";
import {
  currentProcessIdentity,
  type ProcessIdentity,
} from "../../src/recovery/process-identity.js";
import { folderPerTest } from "./job-harness.js";
import {
  killHard,
  processStateOf,
  startHolder,
  startTicksOf,
  startZombie,
} from "./lock-test-processes.js";

const folder = folderPerTest("sluice-folder-lock-");
const children: ChildProcess[] = [];
const locks: CheckpointFolderLock[] = [];

afterEach(async () => {
  for (const lock of locks.splice(0)) await lock.release();
  for (const child of children.splice(0)) await killHard(child);
});

/** Waits that take no time: the tests decide what happens while a judge waits. */
const noWait = async (): Promise<void> => undefined;

async function acquire(options: CheckpointFolderLockOptions = {}): Promise<CheckpointFolderLock> {
  const lock = await CheckpointFolderLock.acquire(folder.path, { wait: noWait, ...options });
  locks.push(lock);
  return lock;
}

async function lockFiles(): Promise<string[]> {
  return (await readdir(folder.path)).sort();
}

/** Writes the lock of generation `generation` as if `holder` had taken it. */
async function writeLock(generation: number, holder: ProcessIdentity): Promise<string> {
  const file = join(folder.path, `owner-${String(generation).padStart(10, "0")}.lock`);
  const content: LockHolder = {
    ...holder,
    token: `token-${generation}`,
    acquiredAt: "2026-12-07T00:00:00.000Z",
  };
  await writeFile(file, JSON.stringify(content));
  return file;
}

async function refusal(options: CheckpointFolderLockOptions = {}): Promise<SluiceError> {
  const error = await acquire(options).then(
    () => undefined,
    (reason: unknown) => reason as SluiceError,
  );
  if (error === undefined) throw new Error("the folder was taken; expected a refusal");
  return error;
}

describe("CheckpointFolderLock", () => {
  it("takes an empty folder, says who holds it, and lets it go", async () => {
    const lock = await acquire({ appName: "counts" });
    expect(lock.generation).toBe(1);
    expect(await lockFiles()).toEqual(["owner-0000000001.lock"]);
    const holder = JSON.parse(
      await readFile(join(folder.path, "owner-0000000001.lock"), "utf8"),
    ) as LockHolder;
    expect(holder).toMatchObject({ pid: process.pid, appName: "counts" });
    await lock.check();
    await lock.release();
    expect(await lockFiles()).toEqual([]);
  });

  it("refuses a folder a live process on this host holds, naming the folder and the process", async () => {
    const holder = await startHolder(folder.path);
    children.push(holder);
    const error = await refusal();
    expect(error.code).toBe("SLUICE_CHECKPOINT_IN_USE");
    expect(error.message).toContain(folder.path);
    expect(error.message).toContain(`process ${holder.pid} `);
    expect(error.message).toContain('job "holder"');
    expect(await lockFiles()).toEqual(["owner-0000000001.lock"]);
  });

  it("takes the folder over at once from a holder killed with SIGKILL", async () => {
    const holder = await startHolder(folder.path);
    children.push(holder);
    await killHard(holder);
    const lock = await acquire({ wait: () => Promise.reject(new Error("nothing to wait for")) });
    expect(lock.generation).toBe(2);
    expect(await lockFiles()).toEqual(["owner-0000000002.lock"]);
  });

  it("takes the folder over from a holder that exited but was not reaped (a zombie)", async () => {
    const { pid, parent } = await startZombie();
    children.push(parent);
    expect(processStateOf(pid)).toBe("Z");
    // A zombie still answers kill(pid, 0): that alone would keep the folder locked.
    expect(() => process.kill(pid, 0)).not.toThrow();
    await writeLock(1, { ...currentProcessIdentity(), pid, startTicks: startTicksOf(pid) });
    const lock = await acquire();
    expect(lock.generation).toBe(2);
  });

  it("takes the folder over when the holder's process id now belongs to a later process", async () => {
    const { parent } = await startZombie();
    children.push(parent);
    const pid = parent.pid as number;
    const self = currentProcessIdentity();
    await writeLock(1, { ...self, pid, startTicks: startTicksOf(pid) });
    expect((await refusal()).code).toBe("SLUICE_CHECKPOINT_IN_USE");
    // The same id, started at another time: an earlier holder's id handed to this process.
    await writeLock(1, { ...self, pid, startTicks: startTicksOf(pid) - 1 });
    const lock = await acquire();
    expect(lock.generation).toBe(2);
  });

  it("judges a holder on another host by its heartbeat: touched, it keeps the folder; untouched, it is gone", async () => {
    const elsewhere: ProcessIdentity = { pid: 1234, host: "another-host" };
    const file = await writeLock(1, elsewhere);
    const waits: number[] = [];
    let touch = 0;
    const error = await refusal({
      staleAfterMs: 7000,
      wait: async (ms) => {
        waits.push(ms);
        touch++;
        await utimes(file, new Date(touch * 60_000), new Date(touch * 60_000));
      },
    });
    expect(error.code).toBe("SLUICE_CHECKPOINT_IN_USE");
    expect(error.message).toContain("host another-host");
    expect(error.message).toContain(`once that goes untouched for 7000 ms`);
    expect(waits).toEqual([7000]);
    const lock = await acquire({ staleAfterMs: 7000 });
    expect(lock.generation).toBe(2);
  });

  it("takes over a lock file it cannot read only once it went untouched", async () => {
    const file = join(folder.path, "owner-0000000001.lock");
    await writeFile(file, "{ half a lo");
    const error = await refusal({ wait: () => utimes(file, new Date(5000), new Date(5000)) });
    expect(error.message).toContain("a lock file that could not be read");
    expect((await acquire()).generation).toBe(2);
  });

  it("in the same process, a new run takes over and the old one finds out, by its check and by its heartbeat", async () => {
    const lost: SluiceError[] = [];
    const first = await acquire({ heartbeatMs: 5, onLost: (error) => lost.push(error) });
    const second = await acquire();
    expect(second.generation).toBe(2);
    await expect(first.check()).rejects.toMatchObject({ code: "SLUICE_CHECKPOINT_TAKEN_OVER" });
    await vi.waitFor(() => expect(lost).toHaveLength(1), { timeout: 30_000 });
    expect(first.lost?.message).toContain(`process ${process.pid} `);
    await first.release();
    expect(await lockFiles()).toEqual(["owner-0000000002.lock"]);
    await second.check();
  });

  it("finds out when its lock file was removed under it", async () => {
    const lock = await acquire();
    await unlink(join(folder.path, "owner-0000000001.lock"));
    await expect(lock.check()).rejects.toMatchObject({ code: "SLUICE_CHECKPOINT_TAKEN_OVER" });
  });

  it("clears what takers killed mid-way left: a pending lock, and earlier generations", async () => {
    const gone: ProcessIdentity = { ...currentProcessIdentity(), pid: 999_999_999 };
    await writeLock(1, gone);
    await writeLock(3, gone);
    await writeFile(join(folder.path, "owner-6a1c9e5e-1b2c-4d3e-8f90-0123456789ab.pending"), "{");
    const lock = await acquire();
    expect(lock.generation).toBe(4);
    expect(await lockFiles()).toEqual(["owner-0000000004.lock"]);
  });

  it("says what is wrong, as a typed error, when the folder cannot be made or written", async () => {
    const notAFolder = join(folder.path, "a-file");
    await writeFile(notAFolder, "");
    const directory = join(notAFolder, "checkpoint");
    const error = await CheckpointFolderLock.acquire(directory).then(
      () => undefined,
      (reason: unknown) => reason as SluiceError,
    );
    expect(error).toMatchObject({ code: "SLUICE_CHECKPOINT_WRITE_FAILED" });
    expect(error?.message).toContain(`could not take the checkpoint folder ${directory}`);
  });

  it("lets exactly one of two runs starting at once take the folder", async () => {
    const identities: ProcessIdentity[] = [
      { pid: 11, host: "host-a" },
      { pid: 22, host: "host-b" },
    ];
    // Each sees the other's lock touched while it judges it, as a live holder's heartbeat does.
    const keepTouching = async (): Promise<void> => {
      for (const name of await lockFiles()) {
        const at = new Date(Date.now() + Math.random() * 1e9);
        await utimes(join(folder.path, name), at, at);
      }
    };
    const results = await Promise.allSettled(
      identities.map((identity) => acquire({ identity, wait: keepTouching })),
    );
    const taken = results.filter((result) => result.status === "fulfilled");
    const refused = results.flatMap((result) =>
      result.status === "rejected" ? [(result.reason as SluiceError).code] : [],
    );
    expect(taken).toHaveLength(1);
    expect(refused).toEqual(["SLUICE_CHECKPOINT_IN_USE"]);
    expect(await lockFiles()).toEqual(["owner-0000000001.lock"]);
  });
});
