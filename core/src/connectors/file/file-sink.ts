import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { InvalidRecordError, NotConnectedError } from "../../connector/control-flow.js";
import type { SinkRecord } from "../../connector/records.js";
import type { Sink, WriteBatchContext } from "../../connector/sink.js";
import { SluiceError } from "../../errors/sluice-error.js";
import { PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE } from "../../util/private-file-modes.js";
import { batchFileName, batchTemporaryFileName, isBatchTemporaryFileName } from "./file-names.js";
import type { FileSinkConfig } from "./file-sink-config.js";

const NEWLINE = new Uint8Array([0x0a]);
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The built-in `file` sink: one file per batch and partition, written to a hidden temporary
 * file, flushed, and renamed into place, so readers never see half a file and a replayed
 * batch replaces its earlier file instead of adding a second one.
 *
 * A process killed mid-write leaves its temporary file behind; the next sink with the same folder
 * and prefix removes such leftovers when it first connects. That assumes what the config asks
 * for anyway: one running sink per folder and prefix (one process owns the output). Should a
 * second writer of the same output still be running, a removed file only fails its rename, which
 * it reports as not connected and retries, so no batch is lost.
 */
export class FileSink implements Sink {
  readonly #config: FileSinkConfig;
  #connected = false;
  #closed = false;
  #writing: Promise<void> = Promise.resolve();
  /** The leftover cleanup, run once: later (re)connects of this sink must not race its writes. */
  #cleanup: Promise<void> | undefined;
  /** Per copy of a cluster job writing through this sink, the removal of its leftovers. */
  readonly #writerCleanups = new Map<string, Promise<void>>();

  constructor(config: FileSinkConfig) {
    this.#config = config;
  }

  async connect(signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    signal.throwIfAborted();
    const directory = this.#config.directory;
    try {
      if (this.#config.createDirectory) {
        await mkdir(directory, {
          recursive: true,
          ...(this.#config.privateFiles ? { mode: PRIVATE_FOLDER_MODE } : {}),
        });
      }
      if (!(await stat(directory)).isDirectory()) {
        throw new SluiceError(
          "SLUICE_INVALID_CONFIG",
          `file sink: "${directory}" is not a folder.`,
        );
      }
    } catch (error) {
      if (error instanceof SluiceError) throw error;
      throw new NotConnectedError(
        `file sink: cannot use the folder "${directory}": ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    // Shared by concurrent first connects, so none lists the folder once another has written.
    this.#cleanup ??= this.#removeLeftovers().catch((error: unknown) => {
      this.#cleanup = undefined;
      throw new NotConnectedError(
        `file sink: cannot list the folder "${directory}": ${messageOf(error)}`,
        { cause: error },
      );
    });
    await this.#cleanup;
    this.#connected = true;
  }

  async writeBatch(records: readonly SinkRecord[], context: WriteBatchContext): Promise<void> {
    this.#assertOpen();
    if (!this.#connected) {
      throw new NotConnectedError("the file sink is not connected; call connect() first");
    }
    // Writes run one after another, and close() waits for the last one.
    const write = this.#writing.then(() => this.#write(records, context));
    this.#writing = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#connected = false;
    await this.#writing;
  }

  async #write(records: readonly SinkRecord[], context: WriteBatchContext): Promise<void> {
    if (records.length === 0) return;
    if (this.#config.format === "jsonl") checkJson(records, context);
    const extension = this.#config.format === "jsonl" ? "jsonl" : "txt";
    const { writer } = context;
    if (writer !== undefined) await this.#removeLeftoversOf(writer);
    const name = batchFileName(
      this.#config.prefix,
      context.batchTime,
      context.partition,
      extension,
      writer,
    );
    const target = join(this.#config.directory, name);
    const temporary = join(this.#config.directory, batchTemporaryFileName(name, randomUUID()));
    try {
      // Without a mode, Node creates files 0666 less the umask.
      const handle = await open(
        temporary,
        "wx",
        this.#config.privateFiles ? PRIVATE_FILE_MODE : 0o666,
      );
      try {
        await handle.writev(records.flatMap((record) => [record.value, NEWLINE]));
        if (this.#config.fsync) await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, target);
      if (this.#config.fsync) await syncDirectory(this.#config.directory);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      if (isMissingFolder(error)) {
        this.#connected = false;
        throw new NotConnectedError(`file sink: the folder "${this.#config.directory}" is gone`, {
          cause: error,
        });
      }
      throw new SluiceError(
        "SLUICE_CONNECTOR_IO",
        `file sink: cannot write "${target}": ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * Before the first write as `writer` (a copy of a cluster job, `WriteBatchContext.writer`),
   * removes the temporary files that copy left when it was killed: only its own, since other
   * copies may be writing into the folder at the same time.
   */
  #removeLeftoversOf(writer: string): Promise<void> {
    let cleanup = this.#writerCleanups.get(writer);
    if (cleanup === undefined) {
      cleanup = this.#removeLeftovers(writer).catch(() => undefined);
      this.#writerCleanups.set(writer, cleanup);
    }
    return cleanup;
  }

  /**
   * Removes the temporary files of this folder and prefix that a killed writer left (of one
   * copy of a cluster job when `writer` is given); only names `isBatchTemporaryFileName`
   * matches, so other sinks', other copies' and other programs' files stay.
   */
  async #removeLeftovers(writer?: string): Promise<void> {
    const directory = this.#config.directory;
    const leftovers = (await readdir(directory)).filter((name) =>
      isBatchTemporaryFileName(name, this.#config.prefix, writer),
    );
    // Best effort: a leftover that cannot be removed is hidden from readers and harms no write.
    await Promise.all(
      leftovers.map((name) => rm(join(directory, name), { force: true }).catch(() => undefined)),
    );
  }

  #assertOpen(): void {
    if (this.#closed) throw new SluiceError("SLUICE_CONNECTOR_CLOSED", "the file sink was closed");
  }
}

function checkJson(records: readonly SinkRecord[], context: WriteBatchContext): void {
  records.forEach((record, index) => {
    try {
      JSON.parse(decoder.decode(record.value));
    } catch (error) {
      throw new InvalidRecordError(
        `file sink (jsonl): record ${index} of batch ${context.batchTime}, partition ${context.partition} is not JSON (${messageOf(error)}); serialise values with JSON.stringify or use format "lines".`,
        { recordIndex: index },
      );
    }
  });
}

// A rename is durable only once the folder's entry is flushed too.
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isMissingFolder(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === "ENOENT";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
