// A job names the connector plugins it needs in defineJob({ plugins, build }), the way
// docs/connectors.md shows: a third-party package installed in the job's project is loaded
// before the (synchronous) build function runs, under `sluice run` and in a plain script.
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createJobContext, defineJob, hasErrorCode, SluiceError } from "sluice";
import { defineSource } from "sluice/connector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { main } from "../../src/cli/main.js";
import { isJobDefinition } from "../../src/job/define-job.js";
import { captureIo } from "./capture-io.js";

const repoNodeModules = fileURLToPath(new URL("../../../node_modules", import.meta.url));

// The package as one built against its own copy of Sluice would look once compiled: plugin
// objects of the published shape, errors recognised by their code.
const GREETING_PACKAGE = `import { z } from "zod";

class Greetings {
  #lines; #done = false;
  constructor(lines) { this.#lines = lines; }
  async connect() {}
  async read() {
    if (this.#done) throw Object.assign(new Error("no more greetings"), { code: "SLUICE_END_OF_INPUT" });
    this.#done = true;
    const encoder = new TextEncoder();
    const records = this.#lines.map((line, index) => ({
      value: encoder.encode(line), headers: {}, timestampMs: Date.now(), partition: "greetings", offset: String(index + 1),
    }));
    return { records, ack() {} };
  }
  pause() {}
  resume() {}
  async close() {}
}

export default {
  sluicePlugin: 1,
  kind: "source",
  name: "greeting",
  version: "1.2.3",
  config: z.strictObject({ lines: z.array(z.string()).min(1) }),
  capabilities: { replayable: false },
  create: (config) => new Greetings(config.lines),
};
`;

// A job of the project, written as connectors.md says.
const JOB = (packageName: string) => `import { defineJob } from "sluice";

export default defineJob({
  plugins: ["${packageName}"],
  build(ctx, args) {
    const decoder = new TextDecoder();
    ctx
      .source("greeting", { lines: ["hello", "bonjour", "hallo"] })
      .map((record) => decoder.decode(record.value).toUpperCase())
      .sink("file", { directory: args.output, prefix: "greetings" });
  },
});
`;

async function writeFileIn(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

async function linesIn(directory: string): Promise<string[]> {
  const files = await readdir(directory);
  const texts = await Promise.all(files.map((name) => readFile(join(directory, name), "utf8")));
  return texts.join("").split("\n").filter(Boolean).sort();
}

let project: string;
beforeAll(async () => {
  // A project of its own: the package in its node_modules, the job in a folder below it.
  project = await mkdtemp(join(tmpdir(), "sluice-job-plugins-"));
  await mkdir(join(project, "node_modules"));
  await symlink(join(repoNodeModules, "zod"), join(project, "node_modules", "zod"), "dir");
  const pkg = join(project, "node_modules", "@acme", "sluice-greeting");
  await writeFileIn(
    join(pkg, "package.json"),
    JSON.stringify({ name: "@acme/sluice-greeting", version: "1.2.3", type: "module" }),
  );
  await writeFileIn(join(pkg, "index.js"), GREETING_PACKAGE);
  await writeFileIn(join(project, "jobs", "greet.ts"), JOB("@acme/sluice-greeting"));
  await writeFileIn(join(project, "jobs", "missing.ts"), JOB("@acme/sluice-not-installed"));
});
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

describe("defineJob({ plugins, build })", () => {
  it("loads a plugin package for a `sluice run` job before its build function runs", async () => {
    const output = join(project, "out-run");
    const io = captureIo();
    const code = await main(
      [
        "run",
        join(project, "jobs", "greet.ts"),
        "--batch",
        "100ms",
        "--set",
        `job.output=${output}`,
      ],
      io,
    );
    expect(io.err()).toMatch(/stopped after \d+ batches, 3 records in, 3 out/);
    expect(code).toBe(0);
    expect(await linesIn(output)).toEqual(["BONJOUR", "HALLO", "HELLO"]);
  });

  it("loads the same job's plugins in a plain script through createJobContext", async () => {
    const output = join(project, "out-script");
    const ctx = await createJobContext(
      { module: pathToFileURL(join(project, "jobs", "greet.ts")), args: { output } },
      { batchInterval: 100 },
    );
    // As `sluice run` does: stop once the source has ended and its last batch was output.
    ctx.addListener({
      onBatchCompleted: () => {
        if (ctx.inputsEnded) void ctx.stop({ graceful: true });
      },
    });
    await ctx.start();
    await ctx.awaitTermination();
    expect(await linesIn(output)).toEqual(["BONJOUR", "HALLO", "HELLO"]);
  });

  it("names a package that is not installed, and how to install it, in `sluice check`", async () => {
    const io = captureIo();
    const code = await main(
      ["check", join(project, "jobs", "missing.ts"), "--set", `job.output=${project}`],
      io,
    );
    expect(code).toBe(2);
    expect(io.err()).toContain('Plugin package "@acme/sluice-not-installed" is not installed');
    expect(io.err()).toContain("npm install @acme/sluice-not-installed");
  });

  it("takes plugin objects as they are", async () => {
    const echo = defineSource({
      name: "echo-object",
      version: "1.0.0",
      config: z.strictObject({}),
      capabilities: { replayable: false },
      create: () => {
        throw new Error("not created in this test");
      },
    });
    const job = defineJob({ plugins: [echo, "@acme/sluice-greeting"], build: () => {} });
    expect(isJobDefinition(job)).toBe(true);
    expect(job.plugins).toEqual([echo, "@acme/sluice-greeting"]);
  });

  it("refuses what is neither a plugin nor a package name, naming each entry", () => {
    let error: unknown;
    try {
      defineJob({ plugins: [{ kind: "source" }, "Not A Name"] as never, build: () => {} });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SluiceError);
    expect(hasErrorCode(error, "SLUICE_PLUGIN_INVALID")).toBe(true);
    expect((error as Error).message).toContain("plugins[0]");
    expect((error as Error).message).toContain('plugins[1]: "Not A Name" is not an npm package');
  });

  it("refuses a spec without a build function", () => {
    expect(() => defineJob({ plugins: [] } as never)).toThrow(/build/);
  });
});
