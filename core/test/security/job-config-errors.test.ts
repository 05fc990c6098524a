import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliError } from "../../src/cli/cli-error.js";
import { readJobConfig } from "../../src/cli/job-config.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-config-errors-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function message(file: string | undefined, overrides: string[] = []): Promise<string> {
  try {
    await readJobConfig(file, overrides);
  } catch (error) {
    if (error instanceof CliError) return error.message;
    throw error;
  }
  throw new Error("the config was accepted");
}

describe("errors about the settings quote no value", () => {
  it("a JSON file that does not parse", async () => {
    const file = join(root, "job.json");
    await writeFile(file, '{"job": {"password": hunter2-json-secret}}');
    const text = await message(file);
    expect(text).toContain("is not valid YAML/JSON");
    expect(text).not.toContain("hunter2");
  });

  it("a YAML file that does not parse", async () => {
    const file = join(root, "job.yaml");
    await writeFile(file, "job:\n  password: hunter2: yaml-secret\n");
    const text = await message(file);
    expect(text).toContain("at line 2");
    expect(text).not.toContain("yaml-secret");
  });

  it("a --set with a refused or empty name in its path", async () => {
    for (const override of ["job.__proto__.password=set-secret-1", "job..password=set-secret-2"]) {
      const text = await message(undefined, [override]);
      expect(text).toMatch(/--set: /);
      expect(text).not.toContain("set-secret");
    }
  });
});
