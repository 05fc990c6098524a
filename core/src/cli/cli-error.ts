/**
 * A failure the CLI reports as one line and an exit code, without a stack trace unless
 * `--verbose` is given.
 *
 * @example
 * throw new CliError("job file not found: jobs/missing.ts", 2);
 */
export class CliError extends Error {
  constructor(
    message: string,
    /** The process exit code: 2 for usage and config errors, 1 for job failures. */
    readonly exitCode: 1 | 2 = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "CliError";
  }
}
