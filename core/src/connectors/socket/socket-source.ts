import { connect as connectTcp, type Socket } from "node:net";
import type { Logger } from "pino";
import { EndOfInputError, NotConnectedError } from "../../connector/control-flow.js";
import {
  emptyReadResult,
  RedeliveryQueue,
  readColumnsResult,
  readResult,
} from "../../connector/read-results.js";
import type { SourceRecordColumns } from "../../connector/record-columns.js";
import type { SourceRecord } from "../../connector/records.js";
import type { ReadOptions, ReadResult, Source } from "../../connector/source.js";
import { Wakeup } from "../../connector/wakeup.js";
import { SluiceError } from "../../errors/sluice-error.js";
import { ReceivedLines } from "./received-lines.js";
import type { SocketSourceConfig } from "./socket-source-config.js";

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/**
 * Bytes of one read from the socket. Every read lands in the same buffer (`onread`), and the
 * lines in it are copied out before the next: no buffer is allocated per read, so a fast sender
 * no longer drives the main thread's garbage collector (the socket run of the peers benchmark
 * went from about 400 to 350 ms).
 */
const READ_BUFFER_BYTES = 256 * 1024;

/**
 * The built-in `socket` source (Spark's socketTextStream): connects to a TCP server and reads
 * newline-separated lines. Not replayable: records live in memory until acknowledged, so the
 * framework logs them to the write-ahead log. A lost connection surfaces as
 * `NotConnectedError` once the lines received before it are read; the framework reconnects with backoff.
 */
export class SocketSource implements Source {
  readonly #config: SocketSourceConfig;
  readonly #logger: Logger;
  readonly #partition: string;
  readonly #wakeup = new Wakeup();
  readonly #redelivery = new RedeliveryQueue();
  readonly #received: ReceivedLines;
  #socket: Socket | undefined;
  #partial: Buffer[] = [];
  #partialBytes = 0;
  #lost: NotConnectedError | undefined = new NotConnectedError(
    "the socket source is not connected",
  );
  #ended = false;
  #failure: SluiceError | undefined;
  #paused = false;
  #backpressured = false;
  #closed = false;
  #reads = 0;
  /** Where each read lands; `#onData` copies out what it keeps before the next read. */
  readonly #readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);

  constructor(config: SocketSourceConfig, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
    this.#partition = `${config.host}:${config.port}`;
    this.#received = new ReceivedLines(this.#partition);
  }

  async connect(signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    if (this.#socket !== undefined) return;
    if (this.#ended) throw new EndOfInputError(`${this.#partition} closed the input`);
    signal.throwIfAborted();
    const socket = await this.#open(signal);
    this.#socket = socket;
    this.#lost = undefined;
    this.#partial = [];
    this.#partialBytes = 0;
    let graceful = false;
    socket.on("end", () => {
      graceful = true;
    });
    socket.on("error", (error) => {
      this.#logger.warn({ err: error, server: this.#partition }, "socket error");
    });
    socket.on("close", () => this.#onClose(socket, graceful));
    if (this.#paused || this.#backpressured) socket.pause();
    this.#logger.info({ server: this.#partition }, "socket source connected");
  }

  async read(signal: AbortSignal, options?: ReadOptions): Promise<ReadResult> {
    this.#assertOpen();
    // Flow control's hint; what stays in #received fills it, and a full #received pauses the socket.
    const max = Math.min(this.#config.maxRecordsPerRead, options?.maxRecords ?? Infinity);
    for (;;) {
      if (this.#redelivery.size > 0) {
        const records = this.#redelivery.take(max);
        this.#relieveBackpressure();
        return this.#result(records);
      }
      if (this.#received.length > 0) {
        const columns = this.#received.take(max);
        this.#relieveBackpressure();
        return this.#columnsResult(columns);
      }
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#ended) throw new EndOfInputError(`${this.#partition} closed the input`);
      if (this.#lost !== undefined) throw this.#lost;
      if (this.#paused || this.#closed || signal.aborted) return emptyReadResult();
      await this.#wakeup.wait(signal);
    }
  }

  pause(): void {
    this.#paused = true;
    this.#socket?.pause();
    this.#wakeup.notify();
  }

  resume(): void {
    this.#paused = false;
    if (!this.#backpressured) this.#socket?.resume();
    this.#wakeup.notify();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined && !socket.destroyed) {
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      socket.destroy();
      await closed;
    }
    this.#wakeup.notify();
  }

  #open(signal: AbortSignal): Promise<Socket> {
    const { host, port, connectTimeoutMs } = this.#config;
    return new Promise<Socket>((resolve, reject) => {
      const socket = connectTcp({
        host,
        port,
        onread: {
          buffer: this.#readBuffer,
          callback: (bytes, buffer) => {
            this.#onData(Buffer.from(buffer.buffer, buffer.byteOffset, bytes));
            // `false` would pause the socket; flow control pauses it through `pause()`.
            return true;
          },
        },
      });
      const settle = (error?: unknown): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        socket.off("connect", onConnect);
        socket.off("error", onError);
        if (error === undefined) resolve(socket);
        else {
          socket.destroy();
          reject(error);
        }
      };
      const onConnect = (): void => settle();
      const onError = (error: Error): void =>
        settle(
          new NotConnectedError(`cannot connect to ${host}:${port}: ${error.message}`, {
            cause: error,
          }),
        );
      const onAbort = (): void => settle(signal.reason);
      const timer = setTimeout(
        () =>
          settle(
            new NotConnectedError(`no connection to ${host}:${port} within ${connectTimeoutMs} ms`),
          ),
        connectTimeoutMs,
      );
      socket.once("connect", onConnect);
      socket.once("error", onError);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #onData(chunk: Buffer): void {
    let start = 0;
    const now = Date.now();
    const first = this.#partialBytes > 0 ? chunk.indexOf(NEWLINE) : -1;
    if (first !== -1) {
      // The line begun in an earlier chunk ends here.
      this.#partial.push(chunk.subarray(0, first));
      this.#partialBytes += first;
      this.#emitLine(now);
      start = first + 1;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) {
      // Every line that ends in this chunk, straight into the columns in one copy.
      this.#received.appendLines(chunk, start, last + 1, now);
      start = last + 1;
    }
    if (start < chunk.length) {
      // The rest waits for its newline; a copy, since the next read overwrites the chunk.
      this.#partial.push(Buffer.from(chunk.subarray(start)));
      this.#partialBytes += chunk.length - start;
      this.#checkLineLength();
    }
    this.#applyBackpressure();
    this.#wakeup.notify();
  }

  /** Pauses the socket once the lines held reach a bound (`#bufferFull`). */
  #applyBackpressure(): void {
    if (!this.#backpressured && this.#bufferFull()) {
      this.#backpressured = true;
      this.#socket?.pause();
    }
  }

  /** A line still waiting for its newline may not grow past `maxLineBytes`. */
  #checkLineLength(): void {
    if (this.#partialBytes <= this.#config.maxLineBytes || this.#failure !== undefined) return;
    this.#failure = new SluiceError(
      "SLUICE_INVALID_RECORD",
      `socket source: ${this.#partition} sent a line longer than maxLineBytes (${this.#config.maxLineBytes}) after offset ${this.#received.nextOffset}; raise maxLineBytes or fix the sender.`,
    );
    this.#socket?.destroy();
  }

  /** The line whose parts wait in `#partial` is complete. */
  #emitLine(timeMs: number): void {
    const line = Buffer.concat(this.#partial, this.#partialBytes);
    this.#partial = [];
    this.#partialBytes = 0;
    const end =
      line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN ? line.length - 1 : line.length;
    this.#received.append(line.subarray(0, end), timeMs);
  }

  #onClose(socket: Socket, graceful: boolean): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    // A last line without a newline is complete once the server has closed the stream; on a
    // connection lost mid-line it is only the start of one, and is dropped rather than passed on.
    if (this.#partialBytes > 0 && this.#failure === undefined) {
      if (graceful) this.#emitLine(Date.now());
      else {
        this.#logger.warn(
          { server: this.#partition, bytes: this.#partialBytes },
          "socket source dropped the unfinished line of a lost connection",
        );
        this.#partial = [];
        this.#partialBytes = 0;
      }
    }
    if (graceful && this.#config.onServerClose === "end") this.#ended = true;
    else {
      this.#lost = new NotConnectedError(
        `the connection to ${this.#partition} was ${graceful ? "closed by the server" : "lost"}`,
      );
    }
    // Still backpressured while the lines held are over a bound: the next connection starts
    // paused (`connect`), and reads resume it once they are under half.
    this.#logger.info({ server: this.#partition, graceful }, "socket source disconnected");
    this.#wakeup.notify();
  }

  /**
   * The lines held reach `maxBufferedRecords` or `maxBufferedBytes`: lines alone would let
   * `maxBufferedRecords` lines of up to `maxLineBytes` each (gigabytes) pile up before a pause.
   * Lines held are those received and not yet read, and those a failed batch handed back: while
   * batches keep failing, each would otherwise take new lines in beside the ones it hands back,
   * and what waits for redelivery would grow without end.
   */
  #bufferFull(): boolean {
    return (
      this.#heldLines() >= this.#config.maxBufferedRecords ||
      this.#heldBytes() >= this.#config.maxBufferedBytes
    );
  }

  #heldLines(): number {
    return this.#received.length + this.#redelivery.size;
  }

  #heldBytes(): number {
    return this.#received.byteLength + this.#redelivery.byteLength;
  }

  /** Resumes a socket paused by `#bufferFull` once both lines and bytes are below half again. */
  #relieveBackpressure(): void {
    if (
      this.#backpressured &&
      this.#heldLines() < this.#config.maxBufferedRecords / 2 &&
      this.#heldBytes() < this.#config.maxBufferedBytes / 2
    ) {
      this.#backpressured = false;
      if (!this.#paused) this.#socket?.resume();
    }
  }

  #columnsResult(columns: SourceRecordColumns): ReadResult {
    const sequence = this.#reads++;
    return readColumnsResult(columns, (error) => {
      if (error !== undefined) {
        this.#redelivery.add(sequence, columns.records());
        this.#applyBackpressure();
        this.#wakeup.notify();
      }
    });
  }

  #result(records: SourceRecord[]): ReadResult {
    const sequence = this.#reads++;
    return readResult(records, (error) => {
      if (error !== undefined) {
        this.#redelivery.add(sequence, records);
        this.#applyBackpressure();
        this.#wakeup.notify();
      }
    });
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new SluiceError("SLUICE_CONNECTOR_CLOSED", "the socket source was closed");
  }
}
