import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

// A benchmark, not a timed test: only that every contender runs and that their digests of
// every batch agree (the command exits 1 otherwise). The bounds only end a hung run on a
// loaded machine; the first run also fetches Spark's jars.
it(
  "npm run bench -- --peers --quick runs every contender and their word counts agree",
  () => {
    const run = spawnSync("npm", ["run", "bench", "--", "--peers", "--quick"], {
      cwd: root,
      encoding: "utf8",
      timeout: 28 * 60_000,
      maxBuffer: 16 << 20,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output.slice(-6000)).toBe(0);
    expect(run.stdout).toContain("PEERS AGREE");
    expect(run.stdout).not.toContain("❌");
    // Spark takes part: quick mode does not skip it.
    expect(run.stdout).toContain("Spark local[2]");
    // The two-core ceiling is measured beside the contenders, with a finite ratio.
    expect(run.stdout).toMatch(/two threads do \d+\.\d\dx one thread's work/);
  },
  30 * 60_000,
);
