// `sluice check` lists the config problems of every connector of a job, not only the first;
// `sluice connectors` shows each option's default.
import { fileURLToPath } from "node:url";
import { secret } from "sluice";
import { defineSink } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeConnector } from "../../src/cli/connectors-command.js";
import { main } from "../../src/cli/main.js";
import { captureIo } from "./capture-io.js";

const job = (name: string): string => fileURLToPath(new URL(`./jobs/${name}`, import.meta.url));

describe("sluice check", () => {
  it("reports the invalid config of every connector, each with its fields", async () => {
    const io = captureIo();
    const code = await main(["check", job("many-bad-connector-configs.ts")], io);
    expect(code).toBe(2);
    const text = io.err();
    expect(text).toContain("3 problems");
    expect(text).toContain('Invalid config for source "file" (2 problems)');
    expect(text).toMatch(/- directory: /);
    expect(text).toMatch(/- format: /);
    expect(text).toContain('Invalid config for source "socket" (1 problem)');
    expect(text).toMatch(/- port: /);
    expect(text).toContain('Invalid config for sink "file" (1 problem)');
    expect(text).toMatch(/- fsync: /);
  });

  it("reports the connectors checked before another error stopped the build, and that error", async () => {
    const io = captureIo();
    const code = await main(
      ["check", job("many-bad-connector-configs.ts"), "--set", "job.failAfter=true"],
      io,
    );
    expect(code).toBe(2);
    const text = io.err();
    expect(text).toContain("4 problems");
    expect(text).toContain('Invalid config for source "socket"');
    expect(text).toContain('Invalid config for sink "file"');
    expect(text).toContain("the job's own check failed after the connectors");
  });
});

describe("sluice connectors", () => {
  it("prints each option's default", async () => {
    const io = captureIo();
    expect(await main(["connectors"], io)).toBe(0);
    expect(io.out()).toMatch(
      /^ {2}format: "lines" \| "jsonl" \| "csv" \| "binary" \(optional, default "lines"\)/m,
    );
    expect(io.out()).toMatch(/^ {2}maxRecords: integer \(optional, default 10\)/m);
    expect(io.out()).toMatch(/^ {2}directory: string \(required\) —/m);
  });

  it("gives defaults in --json and never a secret's default", async () => {
    const plugin = defineSink({
      name: "vault-sink",
      version: "1.0.0",
      config: z.strictObject({
        url: z.string().default("https://vault.local").describe("where the vault is"),
        token: secret(z.string().default("s3cr3t-default-token")),
        retries: z.int().optional(),
      }),
      capabilities: { idempotent: false },
      create: () => {
        throw new Error("not used");
      },
    });
    const listing = describeConnector(plugin, "test");
    expect(listing.options).toEqual([
      {
        name: "url",
        type: "string",
        required: false,
        secret: false,
        default: "https://vault.local",
        description: "where the vault is",
      },
      { name: "token", type: "string", required: false, secret: true, description: undefined },
      { name: "retries", type: "integer", required: false, secret: false, description: undefined },
    ]);
    expect(JSON.stringify(listing)).not.toContain("s3cr3t-default-token");
  });
});
