// `sluice run` as a process: the first SIGINT/SIGTERM stops gracefully, the second stops at once
// even while a batch's output hangs (the graceful stop, and a stop after the batch in progress,
// would both wait for it forever).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliProcess } from "./cli-process.js";

const HUNG_OUTPUT_JOB = fileURLToPath(new URL("./jobs/hung-output.ts", import.meta.url));

let root: string;
let sluice: CliProcess | undefined;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-second-signal-"));
});
afterEach(async () => {
  sluice?.signal("SIGKILL");
  await sluice?.exited;
  sluice = undefined;
  await rm(root, { recursive: true, force: true });
});

describe("sluice run: a second signal", () => {
  it.each([
    ["SIGINT", 130, []],
    ["SIGTERM", 143, ["--checkpoint", "cp"]],
  ] as const)(
    "%s twice while an output hangs exits at once with %i",
    async (signal, code, extra) => {
      const input = join(root, "in");
      await mkdir(input);
      await writeFile(join(input, "a.txt"), "alpha\n");
      const args = extra.map((arg) => (arg === "cp" ? join(root, "cp") : arg));
      const run = new CliProcess([
        "run",
        HUNG_OUTPUT_JOB,
        "--batch",
        "100ms",
        "--set",
        `job.input=${input}`,
        ...args,
      ]);
      sluice = run;
      await run.waitFor("stdout", (out) => out.includes("output hung"), "the hung output");
      run.signal(signal);
      await run.waitFor("stderr", (err) => err.includes("stopping after"), "the graceful stop");
      run.signal(signal);
      const exit = await run.exited;
      expect(exit.stderr).toContain(`${signal}: stopping now`);
      expect(exit.stderr).toContain(
        args.length === 0 ? "not kept without --checkpoint" : "the next run replays",
      );
      expect(exit).toMatchObject({ code, signal: null });
    },
    90_000,
  );
});
