// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the config references are written as a user writes them
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasErrorCode } from "sluice";
import { REDACTED, redactText } from "sluice/connector";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliError } from "../../src/cli/cli-error.js";
import { ConfigReferenceError } from "../../src/cli/config-references.js";
import { readJobConfig } from "../../src/cli/job-config.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-refs-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  delete process.env.SLUICE_TEST_REF_PASSWORD;
  delete process.env.SLUICE_TEST_REF_USER;
});

async function configFile(text: string): Promise<string> {
  const file = join(root, "job.yaml");
  await writeFile(file, text);
  return file;
}

async function refused(file: string | undefined, overrides: string[] = []): Promise<CliError> {
  try {
    await readJobConfig(file, overrides);
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error("the config was accepted");
}

describe("${env:…} and ${file:…} in config files", () => {
  it("replaces references by the variable and the file's text, inside longer strings too", async () => {
    process.env.SLUICE_TEST_REF_PASSWORD = "env-pw-8e1f";
    process.env.SLUICE_TEST_REF_USER = "app";
    await writeFile(join(root, "key.pem"), "file-secret-7c2d\n");
    const file = await configFile(
      [
        "job:",
        "  password: ${env:SLUICE_TEST_REF_PASSWORD}",
        "  url: amqp://${env:SLUICE_TEST_REF_USER}:${env:SLUICE_TEST_REF_PASSWORD}@broker:5672",
        "  key: ${file:key.pem}",
        "  literal: $${env:NOT_A_REFERENCE}",
        "  template: orders.${key}",
        "  list: [ '${env:SLUICE_TEST_REF_USER}' ]",
      ].join("\n"),
    );
    const config = await readJobConfig(file, []);
    expect(config.job).toEqual({
      password: "env-pw-8e1f",
      url: "amqp://app:env-pw-8e1f@broker:5672",
      key: "file-secret-7c2d",
      literal: "${env:NOT_A_REFERENCE}",
      template: "orders.${key}",
      list: ["app"],
    });
  });

  it("redacts the values taken wherever text is printed", async () => {
    process.env.SLUICE_TEST_REF_PASSWORD = "env-pw-5d0a";
    await readJobConfig(undefined, ["job.note=user ${env:SLUICE_TEST_REF_PASSWORD}"]);
    expect(redactText("login with env-pw-5d0a failed")).toBe(`login with ${REDACTED} failed`);
  });

  it("resolves --set values from the current folder", async () => {
    process.env.SLUICE_TEST_REF_PASSWORD = "set-pw-91aa";
    const config = await readJobConfig(undefined, [
      "job.sasl.password=${env:SLUICE_TEST_REF_PASSWORD}",
    ]);
    expect(config.job).toEqual({ sasl: { password: "set-pw-91aa" } });
  });

  it("lists every reference it cannot resolve, naming the setting and the variable or file", async () => {
    const file = await configFile(
      [
        "job:",
        "  kafka:",
        "    password: ${env:SLUICE_TEST_REF_MISSING}",
        "  keys:",
        "    - ${file:missing.pem}",
        "  bad: ${env:1X}",
        "  folder: ${file:.}",
      ].join("\n"),
    );
    const error = await refused(file);
    expect(error.exitCode).toBe(2);
    expect(error.cause).toBeInstanceOf(ConfigReferenceError);
    expect(hasErrorCode(error.cause, "SLUICE_INVALID_CONFIG")).toBe(true);
    const unresolved = (error.cause as ConfigReferenceError).unresolved;
    expect(unresolved.map((ref) => [ref.path, ref.reference])).toEqual([
      ["job.kafka.password", "${env:SLUICE_TEST_REF_MISSING}"],
      ["job.keys[0]", "${file:missing.pem}"],
      ["job.bad", "${env:1X}"],
      ["job.folder", "${file:.}"],
    ]);
    expect(error.message).toContain("4 references cannot be resolved");
    expect(error.message).toContain(
      "job.kafka.password: ${env:SLUICE_TEST_REF_MISSING}: the environment variable SLUICE_TEST_REF_MISSING is not set",
    );
    expect(error.message).toContain(
      `cannot read the file ${join(root, "missing.pem")}: it does not exist`,
    );
    expect(error.message).toContain("it is a folder");
  });
});
