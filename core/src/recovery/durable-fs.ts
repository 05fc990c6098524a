import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE } from "../util/private-file-modes.js";

/** An open file of a `DurableFileSystem`, written sequentially. */
export interface DurableFile {
  /** Appends every byte of `bytes` (a short write is retried until all are written). */
  write(bytes: Uint8Array): Promise<void>;
  /** Flushes the file's data to the disk (`fsync`). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The few file operations checkpoints and the write-ahead log need, behind an interface so a test
 * can put a disk that fails (`FaultInjectingFileSystem`) under them. Paths are absolute or relative
 * to the process; errors are Node's (`ENOENT`, `ENOSPC`, ...). What it creates is private to the
 * job's user, since checkpoints hold operator state and the write-ahead log received records:
 * folders 0700, files 0600; a folder that already exists keeps its mode.
 *
 * @example
 * const fs: DurableFileSystem = nodeFileSystem;
 * await fs.mkdir("/var/lib/job/checkpoints");
 */
export interface DurableFileSystem {
  /** Creates the folder and its parents (0700); no error when it exists. */
  mkdir(path: string): Promise<void>;
  /** The names in the folder; an empty list when it does not exist. */
  list(path: string): Promise<string[]>;
  readFile(path: string): Promise<Uint8Array>;
  /** The file's size in bytes, or `undefined` when it does not exist. */
  size(path: string): Promise<number | undefined>;
  /**
   * Opens for writing: `"create"` fails when the file exists, `"append"` adds at its end (and
   * creates a missing file); a file created is 0600.
   */
  open(path: string, mode: "create" | "append"): Promise<DurableFile>;
  /** Replaces `to` by `from` atomically (POSIX `rename`). */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file or folder (recursively); no error when it does not exist. */
  remove(path: string): Promise<void>;
  /** Flushes a folder's entries, so a rename or a new file inside it survives a power loss. */
  syncDirectory(path: string): Promise<void>;
}

/**
 * The real file system (`node:fs/promises`).
 *
 * @example
 * await nodeFileSystem.syncDirectory("/var/lib/job/checkpoints");
 */
export const nodeFileSystem: DurableFileSystem = {
  async mkdir(path) {
    await mkdir(path, { recursive: true, mode: PRIVATE_FOLDER_MODE });
  },
  async list(path) {
    try {
      return await readdir(path);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return [];
      throw error;
    }
  },
  async readFile(path) {
    return new Uint8Array(await readFile(path));
  },
  async size(path) {
    try {
      return (await stat(path)).size;
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw error;
    }
  },
  async open(path, mode) {
    const handle = await open(path, mode === "create" ? "wx" : "a", PRIVATE_FILE_MODE);
    return {
      async write(bytes) {
        let written = 0;
        while (written < bytes.byteLength) {
          const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written);
          written += bytesWritten;
        }
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  },
  rename: (from, to) => rename(from, to),
  async remove(path) {
    await rm(path, { recursive: true, force: true });
  },
  async syncDirectory(path) {
    const handle = await open(path, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

/**
 * The `code` of a Node system error (`"ENOSPC"`), if any.
 *
 * @example
 * if (errorCode(error) === "ENOSPC") reportDiskFull();
 */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}
