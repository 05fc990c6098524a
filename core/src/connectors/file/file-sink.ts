import { randomUUID } from "node:crypto";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { SluiceError } from "../../errors/sluice-error.js";
import { InvalidRecordError, NotConnectedError } from "../../plugins/control-flow.js";
import type { SinkRecord } from "../../plugins/records.js";
import type { Sink, WriteBatchContext } from "../../plugins/sink.js";
import { batchFileName } from "./file-names.js";
import type { FileSinkConfig } from "./file-sink-config.js";

const NEWLINE = new Uint8Array([0x0a]);
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The built-in `file` sink: one file per batch and partition, written to a hidden temporary
 * file, flushed, and renamed into place, so readers never see half a file and a replayed
 * batch replaces its earlier file instead of adding a second one.
 */
export class FileSink implements Sink {
  readonly #config: FileSinkConfig;
  #connected = false;
  #closed = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(config: FileSinkConfig) {
    this.#config = config;
  }

  async connect(signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    signal.throwIfAborted();
    const directory = this.#config.directory;
    try {
      if (this.#config.createDirectory) await mkdir(directory, { recursive: true });
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
    const name = batchFileName(
      this.#config.prefix,
      context.batchTime,
      context.partition,
      extension,
    );
    const target = join(this.#config.directory, name);
    const temporary = join(this.#config.directory, `.${name}.${randomUUID()}.tmp`);
    try {
      const handle = await open(temporary, "wx");
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
