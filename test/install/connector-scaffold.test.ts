// From the packed tarballs, in projects outside the repository: `sluice/testing` loads without
// vitest; `sluice new connector` writes a package that installs, builds and passes the
// conformance kit; and a job run by the installed `sluice run` loads that package by name
// through defineJob({ plugins }), as docs/connectors.md shows.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  installProject,
  npmIn,
  packPackages,
  requireBuiltPackages,
  runProcess,
  type Tarballs,
  toolchainFreeEnv,
} from "./install-harness.js";

const CONNECTOR = "memory-queue";
const PACKAGE = `sluice-${CONNECTOR}`;

// runBatches from sluice/testing, then the conformance entry, which needs vitest.
const TESTING_SCRIPT = `import { runBatches } from "sluice/testing";
const output = await runBatches(
  { inputs: [[["a", "b", "a"], ["b"]]] },
  (words) => words.map((word) => [word, 1]).reduceByKey("sum"),
);
console.log("runBatches " + JSON.stringify(output));
try {
  await import("sluice/testing/conformance");
  console.log("conformance loaded");
} catch (error) {
  console.log("conformance failed: " + error.message);
}
`;

// A job of the application, as docs/connectors.md writes one; the records are put into the
// generated package's in-memory system before the job starts.
const JOB = `import { batchRecords, defineJob } from "sluice";
import { InMemorySystem } from "${PACKAGE}";

const system = InMemorySystem.at("memory://orders");
system.append(["order-1", "order-2", "order-3"].map((text) => new TextEncoder().encode(text)));
system.end();

export default defineJob({
  plugins: ["${PACKAGE}"],
  build(ctx) {
    const decoder = new TextDecoder();
    ctx.source("${CONNECTOR}", { url: "memory://orders" }).foreachBatch((batch) => {
      for (const record of batchRecords(batch)) console.log("got " + decoder.decode(record.value));
    });
  },
});
`;

function plain(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes start with ESC
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

let root: string;
let tarballs: Tarballs;
let app: string;
const scaffold = (): string => join(root, "connector");

beforeAll(async () => {
  requireBuiltPackages();
  root = await mkdtemp(join(tmpdir(), "sluice-scaffold-"));
  await mkdir(join(root, "packs"));
  tarballs = await packPackages(join(root, "packs"));
  app = join(root, "app");
  await mkdir(app);
  await installProject(app, [tarballs.sluice, tarballs.native, tarballs.platform]);
}, 300_000);

afterAll(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe("the packed sluice in a project of its own", () => {
  it("imports runBatches from sluice/testing without vitest installed", async () => {
    expect(existsSync(join(app, "node_modules", "vitest"))).toBe(false);
    await writeFile(join(app, "testing.mjs"), TESTING_SCRIPT);
    const run = await runProcess("node", ["testing.mjs"], { cwd: app, env: toolchainFreeEnv() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('runBatches [[["a",2],["b",1]],[["b",1]]]');
    // Only the kit needs vitest, and it is an entry of its own.
    expect(run.stdout).toMatch(/conformance failed: Cannot find package 'vitest'/);
  });

  it("generates a connector package that installs, builds and passes the conformance kit", async () => {
    const created = await runProcess(
      join(app, "node_modules", ".bin", "sluice"),
      ["new", "connector", CONNECTOR, "--dir", scaffold()],
      { cwd: root, env: toolchainFreeEnv() },
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`Created ${PACKAGE}`);
    for (const file of ["tsconfig.json", "vitest.config.ts", "README.md", ".gitignore"]) {
      expect(existsSync(join(scaffold(), file)), file).toBe(true);
    }
    // Its own dependencies from the registry; sluice and the native packages from the tarballs.
    await npmIn(scaffold(), [
      "install",
      "--save-dev",
      tarballs.sluice,
      tarballs.native,
      tarballs.platform,
    ]);
    await npmIn(scaffold(), ["run", "build"]);
    expect(existsSync(join(scaffold(), "dist", "index.js"))).toBe(true);
    expect(existsSync(join(scaffold(), "dist", "index.d.ts"))).toBe(true);
    await npmIn(scaffold(), ["run", "typecheck"]);
    const tested = await npmIn(scaffold(), ["test", "--", "--reporter", "verbose"], 240_000);
    const output = plain(tested.stdout);
    expect(output).toContain(`${CONNECTOR} source (source conformance)`);
    expect(output).toContain(`${CONNECTOR} sink (sink conformance)`);
    expect(output).toMatch(/Test Files\s+2 passed \(2\)/);
    // Cases the kit would only leave out when declared not applicable: each of them ran.
    for (const title of [
      "after seek to a checkpointed offset",
      "after a restart",
      "recovers after the server drops",
    ]) {
      expect(output).toContain(title);
    }
    expect(output).not.toMatch(/failed|skipped/);
  }, 600_000);

  it("runs a job that lists the generated package in defineJob({ plugins }) with sluice run", async () => {
    const packed = await npmIn(scaffold(), [
      "pack",
      "--json",
      "--ignore-scripts",
      "--pack-destination",
      join(root, "packs"),
    ]);
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    await npmIn(app, ["install", join(root, "packs", filename)]);
    await writeFile(join(app, "orders.mjs"), JOB);
    const run = await runProcess(
      join(app, "node_modules", ".bin", "sluice"),
      ["run", "orders.mjs", "--batch", "200ms"],
      { cwd: app, env: toolchainFreeEnv(), timeoutMs: 60_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split("\n").filter((line) => line.startsWith("got "))).toEqual([
      "got order-1",
      "got order-2",
      "got order-3",
    ]);
    expect(run.stderr).toMatch(/^orders: stopped after \d+ batches, 3 records in, 3 out$/m);
  }, 300_000);
});
