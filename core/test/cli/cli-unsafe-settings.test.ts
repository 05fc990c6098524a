// `sluice run` / `sluice check` as a user runs them (a real process): settings that a timer cannot
// hold, or that would reach Object.prototype, are refused at validation with one clear line.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runSluice } from "../../../test/samples/sluice-process.js";

const job = fileURLToPath(new URL("./jobs/replay-upper.ts", import.meta.url));

let root: string;
let jobSettings: string[];
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-cli-unsafe-"));
  const input = join(root, "in");
  await mkdir(input);
  await writeFile(join(input, "a.txt"), "alpha\n");
  await writeFile(join(input, "_DONE"), "");
  jobSettings = ["--set", `job.input=${input}`, "--set", `job.output=${join(root, "out")}`];
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("durations a timer cannot hold", () => {
  // Before the fix these runs spun on TimeoutOverflowWarning (the timer fired after 1 ms).
  for (const [flags, shown] of [
    [["--set", "batchInterval=1e300"], "1e+300"],
    [["--set", "batchInterval=2147483648"], "2147483648"],
    [["--batch", "600h"], "600h"],
    [["--set", "batchInterval=.inf"], "Infinity"],
  ] as const) {
    it(`sluice run ${flags.join(" ")} exits 2 naming the field, the value and the range`, async () => {
      const exit = await runSluice(["run", job, ...flags, ...jobSettings], 20_000);
      expect(exit.stderr).not.toContain("TimeoutOverflowWarning");
      expect(exit.stderr).toContain("batchInterval");
      expect(exit.stderr).toContain(shown);
      expect(exit.stderr).toContain("2147483647");
      expect(exit.code).toBe(2);
    });
  }

  it("sluice check lists a batch interval a timer cannot hold as a problem", async () => {
    const exit = await runSluice(["check", job, "--set", "batchInterval=1e300", ...jobSettings]);
    expect(exit.stderr).toMatch(/batchInterval: .*from 1 to 2147483647.*got 1e\+300/);
    expect(exit.code).toBe(2);
  });

  it("sluice run --connect-timeout beyond the timer limit exits 2", async () => {
    const exit = await runSluice(["run", job, "--connect-timeout", "1000h", ...jobSettings]);
    expect(exit.stderr).toMatch(/--connect-timeout: .*2147483647.*got 1000h/);
    expect(exit.code).toBe(2);
  });
});

describe("settings that would reach Object.prototype", () => {
  for (const path of ["__proto__.polluted", "job.__proto__.polluted", "constructor.prototype.x"]) {
    it(`sluice run --set ${path}=1 exits 2 with one line naming the path`, async () => {
      const exit = await runSluice(["run", job, "--set", `${path}=1`, ...jobSettings]);
      const lines = exit.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/--set: "(__proto__|constructor)" is not allowed in a path/);
      expect(exit.code).toBe(2);
    });
  }

  it("sluice run --set with a value holding __proto__ exits 2", async () => {
    const exit = await runSluice([
      "run",
      job,
      "--set",
      "job.extra={__proto__: {x: 1}}",
      ...jobSettings,
    ]);
    expect(exit.stderr).toMatch(
      /--set: the setting name "__proto__" is not allowed \(at job\.extra\.__proto__\)/,
    );
    expect(exit.code).toBe(2);
  });

  it("sluice run with a JSON config file holding __proto__ keys exits 2 naming the file", async () => {
    const config = join(root, "settings.json");
    await writeFile(
      config,
      JSON.stringify({ job: { input: join(root, "in"), output: join(root, "out") } }).replace(
        '"job":{',
        '"job":{"__proto__":{"polluted":true},',
      ),
    );
    const exit = await runSluice(["run", job, "--config", config]);
    expect(exit.stderr).toContain(`the config file ${config}`);
    expect(exit.stderr).toContain('"__proto__" is not allowed (at job.__proto__)');
    expect(exit.code).toBe(2);
  });
});
