// A job file Node reads as CommonJS — a .ts file in a project whose package.json has no
// "type": "module", as `npm init` writes it — fails to import with Node's "Cannot require() ES
// Module ... in a cycle". `sluice check` and `sluice run` say what that means and what to do.
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliProcess, REPO_ROOT } from "./cli-process.js";

const JOB = `import { defineJob } from "sluice";
export default defineJob((ctx) => {
  ctx.socketTextStream("127.0.0.1", 9).print();
});
`;

let project: string;
let manifest: string;
let job: string;
beforeEach(async () => {
  project = await mkdtemp(join(tmpdir(), "sluice-commonjs-job-"));
  manifest = join(project, "package.json");
  job = join(project, "jobs", "lines.ts");
  await mkdir(join(project, "jobs"));
  await mkdir(join(project, "node_modules"));
  await symlink(join(REPO_ROOT, "core"), join(project, "node_modules", "sluice"), "dir");
  await writeFile(job, JOB);
});
afterEach(async () => {
  await rm(project, { recursive: true, force: true });
});

describe("a job file read as CommonJS", () => {
  it.each(["check", "run"])("sluice %s names the package.json and what to do", async (command) => {
    await writeFile(manifest, `${JSON.stringify({ name: "app", version: "1.0.0" })}\n`);
    const exit = await new CliProcess([command, job]).exited;
    expect(exit.stderr).toContain(
      `jobs are ES modules, but ${job} is read as CommonJS: ${manifest} has no "type": "module". Add it there, or name the file lines.mts`,
    );
    expect(exit.code).toBe(command === "check" ? 2 : 1);
  });

  it("names a .cts job as CommonJS by its extension, whatever Node reports", async () => {
    await writeFile(
      manifest,
      `${JSON.stringify({ name: "app", version: "1.0.0", type: "module" })}\n`,
    );
    const cts = join(project, "jobs", "lines.cts");
    await writeFile(cts, JOB);
    const exit = await new CliProcess(["check", cts]).exited;
    expect(exit.stderr).toContain(
      `jobs are ES modules, but ${cts} is CommonJS by its extension: name it lines.mts`,
    );
    expect(exit.code).toBe(2);
  });

  it("checks once the package.json says type module, as the hint says", async () => {
    const app = { name: "app", version: "1.0.0", type: "module" };
    await writeFile(manifest, `${JSON.stringify(app)}\n`);
    const exit = await new CliProcess(["check", job]).exited;
    expect(exit.stdout).toContain("the config and the job's graph are valid");
    expect(exit.code).toBe(0);
  });
});
