import { randomUUID } from "node:crypto";
import { link, mkdir, readdir, readFile, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { SluiceError } from "../errors/sluice-error.js";
import { PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE } from "../util/private-file-modes.js";
import { currentProcessIdentity, livenessOf, type ProcessIdentity } from "./process-identity.js";

/** How a `CheckpointFolderLock` judges and keeps its lock. */
export interface CheckpointFolderLockOptions {
  /** The job's name, written into the lock for whoever finds it. */
  readonly appName?: string;
  /** How often the holder touches its lock file and looks for a takeover (default 2000 ms). */
  readonly heartbeatMs?: number;
  /**
   * A holder on another host (or in another pid namespace) whose lock file was not touched for
   * this long is taken to be gone (default 10000 ms, five heartbeats).
   */
  readonly staleAfterMs?: number;
  /**
   * How long a holder on this host that still runs is waited for before the folder is refused
   * (default 2000 ms): a process just killed can take a moment to exit.
   */
  readonly aliveGraceMs?: number;
  /** Called once when another run took the folder over (the heartbeat found it). */
  readonly onLost?: (error: SluiceError) => void;
  /** This process (tests pretend to be another). */
  readonly identity?: ProcessIdentity;
  /** Waits `ms` (tests drive the waits that judge a holder). */
  readonly wait?: (ms: number) => Promise<void>;
}

/** What a lock file holds. */
export interface LockHolder extends ProcessIdentity {
  readonly token: string;
  readonly appName?: string;
  readonly acquiredAt: string;
}

const DEFAULT_STALE_AFTER_MS = 10_000;
const LOCK = /^owner-(\d{10})\.lock$/;
const PENDING = /^owner-[0-9a-f-]+\.pending$/;

function lockName(generation: number): string {
  return `owner-${String(generation).padStart(10, "0")}.lock`;
}

/**
 * The lock that makes a checkpoint folder one run's at a time (as Kafka Streams locks its state
 * folders): two runs writing checkpoints, batch records and write-ahead logs into one folder
 * would destroy each other's. The folder's holder is the newest `owner-<generation>.lock`; each
 * is made whole (written, then hard-linked into place, which fails when the name exists), so one
 * taker wins every generation. A new run takes the folder over when the holder is gone:
 *
 * - on this host (Linux), at once when the holder's process has exited, is a zombie, or its id
 *   now belongs to a later process; a holder that still runs is waited for `aliveGraceMs`, then
 *   the folder is refused (`SLUICE_CHECKPOINT_IN_USE`);
 * - on another host or in another pid namespace, when its lock file was not touched for
 *   `staleAfterMs` (the holder touches it every `heartbeatMs`);
 * - in this very process, always: a context started again on the folder replaces one that was
 *   left running.
 *
 * A holder that finds a newer generation (its heartbeat, or `check()` before every write) has
 * been taken over: it must write nothing more (`SLUICE_CHECKPOINT_TAKEN_OVER`).
 *
 * @example
 * const lock = await CheckpointFolderLock.acquire("/var/lib/job/checkpoint", { appName: "counts" });
 * await lock.check(); // before each write
 * await lock.release();
 */
export class CheckpointFolderLock {
  readonly directory: string;
  readonly generation: number;
  readonly #options: CheckpointFolderLockOptions;
  readonly #heartbeat: NodeJS.Timeout;
  #lost: SluiceError | undefined;
  #released = false;

  private constructor(directory: string, generation: number, options: CheckpointFolderLockOptions) {
    this.directory = directory;
    this.generation = generation;
    this.#options = options;
    this.#heartbeat = setInterval(() => void this.#beat(), options.heartbeatMs ?? 2000);
    this.#heartbeat.unref();
  }

  /**
   * Takes the folder (creating it), or throws `SLUICE_CHECKPOINT_IN_USE` naming the run that
   * holds it.
   *
   * @example
   * const lock = await CheckpointFolderLock.acquire("/var/lib/job/checkpoint");
   */
  static async acquire(
    directory: string,
    options: CheckpointFolderLockOptions = {},
  ): Promise<CheckpointFolderLock> {
    let generation: number;
    try {
      generation = await take(directory, options);
    } catch (error) {
      if (error instanceof SluiceError) throw error;
      // The folder cannot be read or written (permissions, a read-only or full disk).
      throw new SluiceError(
        "SLUICE_CHECKPOINT_WRITE_FAILED",
        `could not take the checkpoint folder ${directory} for this run: ${error instanceof Error ? error.message : String(error)}. The job's user must be able to create, read and write files there`,
        { cause: error },
      );
    }
    return new CheckpointFolderLock(directory, generation, options);
  }

  /** The takeover that ended this lock, if a check found one. */
  get lost(): SluiceError | undefined {
    return this.#lost;
  }

  /**
   * Throws `SLUICE_CHECKPOINT_TAKEN_OVER` when another run has taken the folder over (or the
   * lock file was removed); call before writing to the folder.
   *
   * @example
   * await lock.check();
   */
  async check(): Promise<void> {
    if (this.#lost !== undefined) throw this.#lost;
    const lost = await this.#findLoss();
    if (lost !== undefined) this.#lose(lost);
    if (this.#lost !== undefined) throw this.#lost;
  }

  /**
   * Lets the folder go: removes this run's lock file (unless another run took over).
   *
   * @example
   * await lock.release();
   */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#heartbeat);
    await unlink(join(this.directory, lockName(this.generation))).catch(() => undefined);
  }

  async #beat(): Promise<void> {
    if (this.#released || this.#lost !== undefined) return;
    const now = new Date();
    try {
      await utimes(join(this.directory, lockName(this.generation)), now, now);
    } catch {
      // A missing lock file is a loss; the check below says so.
    }
    const lost = await this.#findLoss();
    if (lost !== undefined && !this.#released) this.#lose(lost);
  }

  #lose(error: SluiceError): void {
    if (this.#lost !== undefined) return;
    this.#lost = error;
    clearInterval(this.#heartbeat);
    this.#options.onLost?.(error);
  }

  async #findLoss(): Promise<SluiceError | undefined> {
    const newer = join(this.directory, lockName(this.generation + 1));
    if (await exists(newer)) {
      const holder = await readHolder(newer);
      return new SluiceError(
        "SLUICE_CHECKPOINT_TAKEN_OVER",
        `another run of the job took over the checkpoint folder ${this.directory} (${describe(holder)}): this run writes nothing more to it; stop it, and run one copy of the job per folder`,
      );
    }
    if (!(await exists(join(this.directory, lockName(this.generation))))) {
      return new SluiceError(
        "SLUICE_CHECKPOINT_TAKEN_OVER",
        `the lock file ${lockName(this.generation)} of the checkpoint folder ${this.directory} was removed while this run held it: this run writes nothing more to the folder; restart it`,
      );
    }
    return undefined;
  }
}

// Takes the folder's next generation, or throws: the generation taken.
async function take(directory: string, options: CheckpointFolderLockOptions): Promise<number> {
  await mkdir(directory, { recursive: true, mode: PRIVATE_FOLDER_MODE });
  const self = options.identity ?? currentProcessIdentity();
  const wait = options.wait ?? ((ms: number) => delay(ms));
  // Every round either takes a generation or finds the holder changed under it: a bounded
  // number of rounds covers takers racing each other.
  for (let round = 0; round < 16; round++) {
    const newest = await newestLock(directory);
    if (newest !== undefined) {
      const verdict = await judge(directory, newest, self, options, wait);
      if (verdict === "changed") continue;
      if (verdict === "held") throw inUse(directory, newest, undefined);
      if (verdict === "heldElsewhere") {
        throw inUse(directory, newest, options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
      }
    }
    const generation = (newest?.generation ?? 0) + 1;
    const holder: LockHolder = {
      ...self,
      token: randomUUID(),
      ...(options.appName === undefined ? {} : { appName: options.appName }),
      acquiredAt: new Date().toISOString(),
    };
    if (!(await create(directory, generation, holder))) continue;
    await removeEarlier(directory, generation);
    return generation;
  }
  throw new SluiceError(
    "SLUICE_CHECKPOINT_IN_USE",
    `could not take the checkpoint folder ${directory}: other runs kept taking it at the same time; start one run of the job per folder`,
  );
}

interface FoundLock {
  readonly generation: number;
  readonly file: string;
  /** `undefined` when the file could not be read as a lock. */
  readonly holder: LockHolder | undefined;
}

async function newestLock(directory: string): Promise<FoundLock | undefined> {
  let newest: number | undefined;
  for (const name of await readdir(directory)) {
    const match = LOCK.exec(name);
    if (match === null) continue;
    const generation = Number(match[1]);
    if (newest === undefined || generation > newest) newest = generation;
  }
  if (newest === undefined) return undefined;
  const file = join(directory, lockName(newest));
  return { generation: newest, file, holder: await readHolder(file) };
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      typeof (parsed as LockHolder).pid === "number" &&
      typeof (parsed as LockHolder).host === "string" &&
      typeof (parsed as LockHolder).token === "string"
    ) {
      return parsed as LockHolder;
    }
  } catch {
    // Unreadable: judged as a holder elsewhere (by whether the file is touched).
  }
  return undefined;
}

/** What a start makes of the folder's holder (`held`: by the process it names, looked up here, or `heldElsewhere`). */
type Verdict = "gone" | "held" | "heldElsewhere" | "changed";

async function judge(
  directory: string,
  found: FoundLock,
  self: ProcessIdentity,
  options: CheckpointFolderLockOptions,
  wait: (ms: number) => Promise<void>,
): Promise<Verdict> {
  const holder = found.holder;
  if (holder !== undefined && sameProcess(holder, self)) return "gone";
  const liveness = holder === undefined ? "unknown" : livenessOf(holder, self);
  if (liveness === "gone") return "gone";
  if (liveness === "alive") {
    const grace = options.aliveGraceMs ?? 2000;
    const step = Math.min(100, grace);
    for (let waited = 0; waited < grace; waited += step) {
      await wait(step);
      if (!(await stillNewest(directory, found))) return "changed";
      if (livenessOf(holder as LockHolder, self) === "gone") return "gone";
    }
    return "held";
  }
  // Elsewhere: the holder touches its file every heartbeat; untouched for long, it is gone.
  const before = await modifiedAt(found.file);
  if (before === undefined) return "changed";
  await wait(options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
  if (!(await stillNewest(directory, found))) return "changed";
  const after = await modifiedAt(found.file);
  if (after === undefined) return "changed";
  return after === before ? "gone" : "heldElsewhere";
}

function sameProcess(holder: ProcessIdentity, self: ProcessIdentity): boolean {
  return (
    holder.pid === self.pid &&
    holder.host === self.host &&
    holder.bootId === self.bootId &&
    holder.pidNamespace === self.pidNamespace &&
    holder.startTicks === self.startTicks
  );
}

async function stillNewest(directory: string, found: FoundLock): Promise<boolean> {
  const newest = await newestLock(directory);
  return newest?.generation === found.generation && newest.holder?.token === found.holder?.token;
}

// Written whole under a name of its own, then linked into place: `link` fails when the name
// exists, so of two takers of one generation exactly one wins, and no reader ever sees half a lock.
async function create(directory: string, generation: number, holder: LockHolder): Promise<boolean> {
  const pending = join(directory, `owner-${holder.token}.pending`);
  await writeFile(pending, `${JSON.stringify(holder)}\n`, { mode: PRIVATE_FILE_MODE, flush: true });
  try {
    await link(pending, join(directory, lockName(generation)));
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOENT: a taker that won meanwhile removed this pending file as a leftover.
    if (code === "EEXIST" || code === "ENOENT") return false;
    throw error;
  } finally {
    await unlink(pending).catch(() => undefined);
  }
}

// Earlier generations, and what a taker killed between writing and linking left behind.
async function removeEarlier(directory: string, generation: number): Promise<void> {
  for (const name of await readdir(directory)) {
    const match = LOCK.exec(name);
    const earlier = match !== null && Number(match[1]) < generation;
    if (earlier || PENDING.test(name)) {
      await unlink(join(directory, name)).catch(() => undefined);
    }
  }
}

function inUse(directory: string, found: FoundLock, staleAfterMs: number | undefined): SluiceError {
  // A holder elsewhere was judged by its heartbeat: say how its lock goes stale.
  const elsewhere =
    staleAfterMs === undefined
      ? ""
      : ` It runs where this process cannot look, and touches its lock file ${found.file}; once that goes untouched for ${staleAfterMs} ms, a start takes the folder over.`;
  return new SluiceError(
    "SLUICE_CHECKPOINT_IN_USE",
    `the checkpoint folder ${directory} is in use by another run of the job (${describe(found.holder)}): a folder holds one run's checkpoints at a time. Stop that run first, or give this one a folder of its own.${elsewhere}`,
  );
}

function describe(holder: LockHolder | undefined): string {
  if (holder === undefined) return "a lock file that could not be read";
  const name = holder.appName === undefined ? "" : `job "${holder.appName}", `;
  return `${name}process ${holder.pid} on host ${holder.host}, since ${holder.acquiredAt}`;
}

async function modifiedAt(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
