// What a new user gets wrong first, and what Sluice should answer: an error that names the field
// or the record and says what to do — never a hang, garbage output or a silent success.
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type DStream, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import { temporaryFolder } from "./files.js";
import { runSluice, SluiceProcess, samplePath } from "./sluice-process.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A job module in a fresh folder outside the repository, as a user's project has it: with a
 * package.json of `"type": "module"` unless `packageJson` says otherwise (`npm init` writes none).
 */
async function jobFile(
  name: string,
  text: string,
  packageJson: Record<string, unknown> = { type: "module" },
): Promise<string> {
  const folder = await temporaryFolder("user-job");
  cleanups.push(folder.remove);
  await writeFile(join(folder.path, "package.json"), JSON.stringify(packageJson));
  const path = join(folder.path, name);
  await writeFile(path, text);
  return path;
}

const PRINTING_JOB =
  'import { defineJob } from "sluice";\nexport default defineJob((ctx) => {\n  ctx.queueStream([["from-outside"]]).map((word) => word.toUpperCase()).print();\n});\n';

/**
 * Builds `build` on a context with a manual clock, runs the batch at 1000 ms and resolves with
 * the failure its output operation reported (undefined when it succeeded).
 */
async function firstBatchFailure(
  build: (ctx: StreamingContext) => void,
): Promise<string | undefined> {
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 1000, clock });
  cleanups.push(() => ctx.stop());
  let failure: string | undefined;
  const completed = new Promise<void>((resolve) =>
    ctx.addListener({
      onOutputOperationCompleted: (info) => {
        failure ??= info.failureReason;
      },
      onBatchCompleted: () => resolve(),
    }),
  );
  build(ctx);
  await ctx.start();
  clock.advance(1000);
  await completed;
  return failure;
}

describe("durations written the way a command line or a Spark user writes them", () => {
  it.each([
    ["500", "500ms"],
    ["1 s", "1s"],
    ["2 min", "2min"],
  ])("batchInterval %j is refused with the duration it likely meant, %j", (given, meant) => {
    expect(() => new StreamingContext({ batchInterval: given as never })).toThrowError(
      expect.objectContaining({
        message: expect.stringContaining(
          `batchInterval: cannot read duration "${given}" (did you mean "${meant}"?)`,
        ),
      }),
    );
  });

  it("sluice run --batch 500 exits 2 saying to write 500ms", async () => {
    const run = await runSluice([
      "run",
      samplePath("temperature-conversion", "job.ts"),
      "--batch",
      "500",
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(/^sluice: batchInterval: .*did you mean "500ms"\?/);
  });
});

describe("options and inputs that cannot be what was meant", () => {
  it("a misspelt StreamingContext option is refused, not ignored (no checkpoint would be written)", () => {
    // Options often come from a config object, where TypeScript's excess-property check is gone.
    const options: Record<string, unknown> = { batchInterval: "1s", chekpoint: "/data/job" };
    expect(() => new StreamingContext(options as never)).toThrowError(
      expect.objectContaining({ message: expect.stringMatching(/chekpoint.*checkpoint/) }),
    );
  });

  it("queueStream of records instead of batches of records is refused, not cut into letters", () => {
    // Spark's queueStream takes a queue of RDDs; a flat array of records is the first guess.
    const ctx = new StreamingContext({ batchInterval: "1s", clock: new ManualClock(0) });
    expect(() => ctx.queueStream(["hello", "world"] as never)).toThrowError(
      expect.objectContaining({ message: expect.stringMatching(/queueStream.*array/) }),
    );
  });
});

describe("job modules that are not jobs", () => {
  it("a module without a default export: sluice check names defineJob", async () => {
    const job = await jobFile("no-job.ts", "export const batch = 1;\n");
    const run = await runSluice(["check", job]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no-job\.ts.* is not a job: export the result of defineJob/);
  });

  it("a module with a syntax error: sluice check names the file and the line", async () => {
    const job = await jobFile(
      "typo.ts",
      'import { defineJob } from "sluice";\nexport default defineJob((ctx) => {\n  ctx.queueStream([[1]]).print(\n});\n',
    );
    const run = await runSluice(["check", job]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("could not import the job module");
    expect(run.stderr).toMatch(/typo\.ts:4:\d+: ERROR/);
  });
});

describe('a TypeScript job in a project that npm init made (no "type": "module")', () => {
  it("is checked, or refused with what to change — not a require() cycle from Node", async () => {
    const job = await jobFile("job.ts", PRINTING_JOB, { name: "app", version: "1.0.0" });
    const run = await runSluice(["check", job]);
    expect(run.stderr).not.toContain("in a cycle");
    if (run.code !== 0) expect(run.stderr).toContain('"type": "module"');
    expect(run.code === 0 || run.code === 2, run.stderr).toBe(true);
  });
});

describe("a connector of Sluice's own that is not installed", () => {
  it.each([
    ["kafka", "@sluice/kafka"],
    ["mqtt", "@sluice/mqtt"],
    ["rabbitmq", "@sluice/rabbitmq"],
  ])("ctx.source(%j) names the package to install, %s", (name, packageName) => {
    const ctx = new StreamingContext({ batchInterval: "1s", clock: new ManualClock(0) });
    expect(() => ctx.source(name, {})).toThrowError(
      expect.objectContaining({
        code: "SLUICE_UNKNOWN_CONNECTOR",
        message: expect.stringContaining(packageName),
      }),
    );
  });
});

describe("operations given what they cannot work on", () => {
  it("reduceByKey on records that are not [key, value] pairs fails naming the record", async () => {
    // TypeScript refuses this; a JavaScript job (or a map that returns an object) does not.
    const failure = await firstBatchFailure((ctx) => {
      const words = ctx.queueStream([["apple", "pear"]]) as unknown as DStream<[string, number]>;
      words.reduceByKey((a, b) => a + b).foreachBatch(() => {});
    });
    expect(failure).toMatch(/reduceByKey/);
    expect(failure).toMatch(/\[key, value\]/);
    expect(failure).toContain('"apple"');
  });

  it("map with an async function fails saying so, instead of passing Promises on", async () => {
    // `await` inside map is the first thing a Node developer tries; the records would be
    // Promises, which print as {} and serialize as nothing.
    const failure = await firstBatchFailure((ctx) => {
      ctx
        .queueStream([[1, 2]])
        .map(async (value) => value * 2)
        .foreachBatch(() => {});
    });
    expect(failure).toMatch(/map/);
    expect(failure).toMatch(/Promise/);
  });
});

describe("a job outside the repository, run by the checkout's sluice", () => {
  it("runs under --master local[2] beside a tsconfig.json of its own, as under local", async () => {
    const job = await jobFile("outside.ts", PRINTING_JOB);
    // A TypeScript project's usual tsconfig: strict, no experimental decorators. The executors
    // must compile Sluice's own sources (a checkout has no build) with Sluice's settings.
    await writeFile(
      join(dirname(job), "tsconfig.json"),
      JSON.stringify({ compilerOptions: { strict: true, module: "NodeNext", target: "ES2022" } }),
    );
    const sluice = new SluiceProcess(["run", job, "--master", "local[2]", "--batch", "200ms"]);
    cleanups.push(() => sluice.kill());
    await sluice.waitForStdout((stdout) => stdout.includes("FROM-OUTSIDE"), "the printed batch");
    const exit = await sluice.stop();
    expect(exit.code, sluice.describe()).toBe(0);
  });
});
