import type { CliIo } from "../../src/cli/run-command.js";

/** What the CLI prints, captured; signals are never delivered. */
export type CapturedIo = CliIo & { out: () => string; err: () => string };

/**
 * An `io` for `main` that keeps what the CLI writes to stdout and stderr.
 *
 * @example
 * const io = captureIo();
 * await main(["check", job], io);
 * expect(io.err()).toMatch(/problem/);
 */
export function captureIo(): CapturedIo {
  let out = "";
  let err = "";
  return {
    stdout: {
      write: (text: string) => {
        out += text;
      },
    },
    stderr: {
      write: (text: string) => {
        err += text;
      },
      isTTY: false,
    },
    onSignal: () => () => {},
    out: () => out,
    err: () => err,
  };
}
