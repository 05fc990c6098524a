// Logs go to stderr, never stdout: a job whose connector logs through `context.logger` on every
// call, run by `sluice run`, prints only its records on stdout; --log and --log-level shape the
// lines on stderr.
import { describe, expect, it } from "vitest";
import { runSluice } from "../../samples/sluice-process.js";
import { observedJob } from "./observed-run.js";

const RECORDS = 5;

function runChattyJob(flags: readonly string[], env: NodeJS.ProcessEnv = {}) {
  return runSluice(
    [
      "run",
      observedJob("logging-connector.ts"),
      "--batch",
      "100ms",
      "--set",
      `job.records=${RECORDS}`,
      ...flags,
    ],
    120_000,
    { SLUICE_LOG_LEVEL: undefined, SLUICE_LOG_FORMAT: undefined, ...env },
  );
}

/** Every line `print()` writes: its batch header and the records. */
const PRINT_LINE = /^(-{43}|Time: \d+ ms|record-\d+|)$/;

function expectOnlyRecordsOnStdout(stdout: string): void {
  const lines = stdout.split("\n");
  expect(lines.filter((line) => !PRINT_LINE.test(line))).toEqual([]);
  expect(lines.filter((line) => line.startsWith("record-")).sort()).toEqual(
    Array.from({ length: RECORDS }, (_, i) => `record-${i + 1}`),
  );
}

// Each test starts `sluice run` (tsx compiles the job first): generous on a loaded machine; the
// waits inside are on conditions, this only ends a test that would hang.
const PROCESS_TEST_TIMEOUT_MS = 180_000;

describe("logs of sluice run", { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it("go to stderr as pino JSON, the connector's with its id, while stdout holds only the job's output", async () => {
    const exit = await runChattyJob(["--log-level", "info"]);
    expect(exit.code, exit.stderr).toBe(0);
    expectOnlyRecordsOnStdout(exit.stdout);
    expect(exit.stdout).not.toContain("chatty source");
    const logs = exit.stderr
      .split("\n")
      .filter((line) => line.startsWith("{") && line.includes('"level"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const connected = logs.find((log) => log.msg === "chatty source connected");
    expect(connected).toMatchObject({ level: 30, name: "sluice", records: RECORDS });
    expect(String(connected?.connector)).toMatch(/^source:chatty#\d+$/);
    expect(logs.filter((log) => log.msg === "chatty source read a record")).toHaveLength(RECORDS);
    expect(logs.some((log) => log.msg === "chatty source closed")).toBe(true);
  });

  it("--log pretty writes readable lines instead of JSON, still on stderr", async () => {
    const exit = await runChattyJob(["--log", "pretty", "--log-level", "info"]);
    expect(exit.code, exit.stderr).toBe(0);
    expectOnlyRecordsOnStdout(exit.stdout);
    const connected = exit.stderr
      .split("\n")
      .find((line) => line.includes("chatty source connected"));
    expect(connected).toMatch(/INFO.*chatty source connected/);
    expect(exit.stderr).not.toMatch(/^\{"level"/m);
  });

  it("--log-level overrides SLUICE_LOG_LEVEL, which sets the level otherwise", async () => {
    const quiet = await runChattyJob(["--log-level", "warn"], { SLUICE_LOG_LEVEL: "info" });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toContain("chatty source");
    const fromEnv = await runChattyJob([], { SLUICE_LOG_LEVEL: "info" });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(fromEnv.stderr).toContain("chatty source connected");
  });

  it("rejects a level it does not know, naming the flag or the variable", async () => {
    const badFlag = await runChattyJob(["--log-level", "loud"]);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain(
      '--log-level must be one of fatal, error, warn, info, debug, trace, silent; got "loud"',
    );
    const badEnv = await runChattyJob([], { SLUICE_LOG_LEVEL: "loud" });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain("SLUICE_LOG_LEVEL must be one of");
  });
});
