import { Writable } from "node:stream";
import pino, { type Logger } from "pino";

/**
 * A pino logger at the most verbose level whose lines are kept in memory, so a test can
 * check what a connector logged (and that no secret was among it).
 *
 * @example
 * const logs = new LogCapture();
 * new ConnectorRegistry({ logger: logs.logger });
 * expect(logs.text()).not.toContain("hunter2");
 */
export class LogCapture {
  readonly logger: Logger;
  readonly #lines: string[] = [];

  constructor() {
    const lines = this.#lines;
    const sink = new Writable({
      write(chunk: Buffer | string, _encoding, callback): void {
        lines.push(String(chunk));
        callback();
      },
    });
    this.logger = pino({ level: "trace" }, sink);
  }

  /** Every line logged so far (pino's JSON lines), joined. */
  text(): string {
    return this.#lines.join("");
  }
}
