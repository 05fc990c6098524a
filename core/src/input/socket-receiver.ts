import { connect, type Socket } from "node:net";
import { StringDecoder } from "node:string_decoder";
import { Receiver } from "./receiver.js";

/**
 * Receives UTF-8 text lines from a TCP server (Spark's `SocketReceiver`, behind
 * `socketTextStream`): one record per line, without its terminator (`\n`, `\r\n`). When the
 * server closes the connection or cannot be reached, the receiver restarts and connects again.
 *
 * @example
 * const lines = ctx.receiverStream(new SocketReceiver("localhost", 9999));
 */
export class SocketReceiver extends Receiver<string> {
  private socket: Socket | undefined;

  constructor(
    private readonly serverHost: string,
    private readonly serverPort: number,
  ) {
    super();
  }

  override get name(): string {
    return `SocketReceiver(${this.serverHost}:${this.serverPort})`;
  }

  onStart(): void {
    const decoder = new StringDecoder("utf8");
    let partial = "";
    const socket = connect({ host: this.serverHost, port: this.serverPort });
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      const lines = (partial + decoder.write(chunk)).split("\n");
      partial = lines.pop() ?? "";
      if (lines.length > 0) this.store(lines.map(stripCarriageReturn));
    });
    socket.on("end", () => {
      const rest = partial + decoder.end();
      partial = "";
      if (rest.length > 0) this.store([stripCarriageReturn(rest)]);
      if (this.socket === socket) this.restart("socket data stream had no more data");
    });
    socket.on("error", (error) => {
      if (this.socket === socket) {
        this.restart(`error receiving data from ${this.serverHost}:${this.serverPort}`, error);
      }
    });
  }

  onStop(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }
}

function stripCarriageReturn(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
