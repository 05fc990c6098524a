import type { Writable } from "node:stream";
import type { SinkRecord } from "../../connector/records.js";
import type { Sink, WriteBatchContext } from "../../connector/sink.js";
import { SluiceError } from "../../errors/sluice-error.js";
import type { ConsoleSinkConfig } from "./console-sink-config.js";

const RULE = "-------------------------------------------";

/**
 * The built-in `console` sink: prints each batch the way Spark's `DStream.print()` does, a
 * header with the batch time, then the first `maxRecords` values.
 */
export class ConsoleSink implements Sink {
  readonly #config: ConsoleSinkConfig;
  readonly #output: Writable;
  readonly #decoder = new TextDecoder();
  #closed = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(config: ConsoleSinkConfig, output: Writable) {
    this.#config = config;
    this.#output = output;
  }

  async connect(signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    signal.throwIfAborted();
  }

  async writeBatch(records: readonly SinkRecord[], context: WriteBatchContext): Promise<void> {
    this.#assertOpen();
    const write = this.#writing.then(() => this.#print(this.#format(records, context)));
    this.#writing = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    // The process's streams are not ours to close; only wait for the last print.
    this.#closed = true;
    await this.#writing;
  }

  #format(records: readonly SinkRecord[], context: WriteBatchContext): string {
    const partition = context.partition === 0 ? "" : ` (partition ${context.partition})`;
    const lines = [RULE, `Time: ${context.batchTime} ms${partition}`, RULE];
    for (const record of records.slice(0, this.#config.maxRecords))
      lines.push(this.#show(record.value));
    if (records.length > this.#config.maxRecords) lines.push("...");
    return `${lines.join("\n")}\n\n`;
  }

  #show(value: Uint8Array): string {
    switch (this.#config.encoding) {
      case "hex":
        return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex");
      case "base64":
        return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
      default:
        return this.#decoder.decode(value);
    }
  }

  #print(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#output.write(text, (error) => (error ? reject(error) : resolve()));
    });
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new SluiceError("SLUICE_CONNECTOR_CLOSED", "the console sink was closed");
  }
}
