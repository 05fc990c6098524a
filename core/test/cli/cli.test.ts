import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { secret } from "sluice";
import { defineSource } from "sluice/connector";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { describeConnector } from "../../src/cli/connectors-command.js";
import { main } from "../../src/cli/main.js";
import { captureIo } from "./capture-io.js";

const job = (name: string): string => fileURLToPath(new URL(`./jobs/${name}`, import.meta.url));

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-cli-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("sluice run", () => {
  it("runs a bounded job to its end, prints progress and a summary, and exits 0", async () => {
    const [input, output] = [join(root, "in"), join(root, "out")];
    await mkdir(input);
    await writeFile(join(input, "a.txt"), "alpha\nbeta\n");
    await writeFile(join(input, "b.txt"), "gamma\n");
    await writeFile(join(input, "_DONE"), "");
    const io = captureIo();
    const code = await main(
      [
        "run",
        job("replay-upper.ts"),
        "--batch",
        "100ms",
        "--set",
        `job.input=${input}`,
        "--set",
        `job.output=${output}`,
      ],
      io,
    );
    expect(io.err()).toMatch(/replay-upper: stopped after \d+ batches, 3 records in, 3 out/);
    expect(io.err()).toMatch(/^batch \S+ records=\d+ out=\d+ processing=/m);
    expect(code).toBe(0);
    const files = (await readdir(output)).sort();
    const lines = (await Promise.all(files.map((name) => readFile(join(output, name), "utf8"))))
      .join("")
      .split("\n")
      .filter(Boolean)
      .sort();
    expect(lines).toEqual(["ALPHA", "BETA", "GAMMA"]);
  });

  it("resumes from --checkpoint: a second run reads only what arrived since the first", async () => {
    const [input, output, checkpoint] = [join(root, "in"), join(root, "out"), join(root, "cp")];
    await mkdir(input);
    await writeFile(join(input, "a.txt"), "alpha\nbeta\n");
    await writeFile(join(input, "_DONE"), "");
    const args = (extra: string[]) =>
      ["run", job("replay-upper.ts"), "--batch", "100ms", "--checkpoint", checkpoint].concat(
        ["--set", `job.input=${input}`, "--set", `job.output=${output}`],
        extra,
      );
    const first = captureIo();
    expect(await main(args([]), first)).toBe(0);
    expect(first.err()).toMatch(/stopped after \d+ batches, 2 records in/);
    await writeFile(join(input, "b.txt"), "gamma\n");
    const second = captureIo();
    expect(await main(args([]), second)).toBe(0);
    expect(second.err()).toMatch(/stopped after \d+ batches, 1 records in/);
  });

  it("reports JSON progress with --json", async () => {
    const [input, output] = [join(root, "in"), join(root, "out")];
    await mkdir(input);
    await writeFile(join(input, "a.txt"), "x\n");
    await writeFile(join(input, "_DONE"), "");
    const io = captureIo();
    const code = await main(
      ["run", job("replay-upper.ts"), "--json", "--batch", "100ms"].concat([
        "--set",
        `job.input=${input}`,
        "--set",
        `job.output=${output}`,
      ]),
      io,
    );
    expect(code).toBe(0);
    const events = io
      .err()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { event: string; recordsIn: number });
    expect(events.at(-1)).toMatchObject({ event: "stopped", recordsIn: 1 });
    expect(events.some((event) => event.event === "batchCompleted")).toBe(true);
  });

  it("exits 2 with one line for a missing job file", async () => {
    const io = captureIo();
    expect(await main(["run", join(root, "nope.ts")], io)).toBe(2);
    expect(io.err()).toBe(`sluice: job file not found: ${join(root, "nope.ts")}\n`);
  });

  it("exits 1 with one line, no stack, for a job that throws at build time", async () => {
    const io = captureIo();
    expect(await main(["run", job("throws-at-build.ts")], io)).toBe(1);
    expect(io.err().trim().split("\n")).toHaveLength(1);
    expect(io.err()).toContain("the job's settings lack a topic");
    expect(io.err()).not.toMatch(/\n\s+at /);
    const verbose = captureIo();
    await main(["run", job("throws-at-build.ts"), "--verbose"], verbose);
    expect(verbose.err()).toMatch(/\n\s+at /);
  });

  it("fails with one line naming the source when it cannot connect within the timeout", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, "127.0.0.1", () => {
        const address = server.address() as AddressInfo;
        server.close(() => resolve(address.port));
      });
    });
    const io = captureIo();
    const code = await main(
      [
        "run",
        job("unreachable-socket.ts"),
        "--connect-timeout",
        "300ms",
        "--batch",
        "100ms",
      ].concat(["--set", `job.port=${closedPort}`]),
      io,
    );
    expect(code).toBe(1);
    const lastLine = io.err().trim().split("\n").at(-1) ?? "";
    expect(lastLine).toMatch(/^sluice: a source could not connect within 0\.3 s: source:socket/);
    expect(lastLine).toContain(`127.0.0.1:${closedPort}`);
  });

  it("fails when a source's first connection failure comes only after the timeout", async () => {
    const io = captureIo();
    const code = await main(
      [
        "run",
        job("slow-failing-source.ts"),
        "--connect-timeout",
        "100ms",
        "--batch",
        "100ms",
      ].concat(["--set", "job.failAfterMs=300"]),
      io,
    );
    expect(code).toBe(1);
    expect(io.err().trim().split("\n").at(-1)).toMatch(
      /^sluice: a source could not connect within 0\.1 s: .*nothing answers at 127\.0\.0\.1:1/,
    );
  });

  it("rejects unknown flags and commands with the usage", async () => {
    const io = captureIo();
    expect(await main(["run", "x.ts", "--fast"], io)).toBe(2);
    expect(io.err()).toContain("Usage:");
    expect(await main(["launch"], captureIo())).toBe(2);
  });

  it("prints the usage for --help and -h, on any command, without an error", async () => {
    for (const argv of [["--help"], ["-h"], ["run", "--help"], ["check", "job.ts", "-h"]]) {
      const io = captureIo();
      expect(await main(argv, io), argv.join(" ")).toBe(0);
      expect(io.out(), argv.join(" ")).toContain("Usage:");
      expect(io.err(), argv.join(" ")).toBe("");
    }
  });
});

describe("sluice check", () => {
  it("lists every problem of the settings and of the job's connector configs at once", async () => {
    const config = join(root, "broken.yaml");
    await writeFile(config, "master: local[x]\nbatchInterval: -5\ncolour: blue\n");
    const io = captureIo();
    const code = await main(["check", job("bad-connector-config.ts"), "--config", config], io);
    expect(code).toBe(2);
    const text = io.err();
    expect(text).toContain("master");
    expect(text).toContain("batchInterval");
    expect(text).toContain("colour");
    expect(text).toContain('Invalid config for source "file" (2 problems)');
    expect(text).toContain("directory");
    expect(text).toContain("format");
  });

  it("passes a valid job without starting it", async () => {
    const io = captureIo();
    const code = await main(
      [
        "check",
        job("replay-upper.ts"),
        "--set",
        `job.input=${root}`,
        "--set",
        `job.output=${root}`,
      ],
      io,
    );
    expect(io.err()).toBe("");
    expect(code).toBe(0);
    expect(io.out()).toContain("valid");
    expect(await readdir(root)).toEqual([]);
  });
});

describe("sluice connectors", () => {
  it("lists the built-in connectors with their options", async () => {
    const io = captureIo();
    expect(await main(["connectors"], io)).toBe(0);
    expect(io.out()).toMatch(/^source file /m);
    expect(io.out()).toMatch(/^ {2}directory: string \(required\)/m);
    expect(io.out()).toMatch(/^sink console /m);
  });

  it("marks secret options", () => {
    const plugin = defineSource({
      name: "vault",
      version: "1.0.0",
      config: z.strictObject({
        url: z.string().describe("where the vault is"),
        token: secret(z.string()),
      }),
      capabilities: { replayable: false },
      create: () => {
        throw new Error("not used");
      },
    });
    const listing = describeConnector(plugin, "test");
    expect(listing.options).toEqual([
      {
        name: "url",
        type: "string",
        required: true,
        secret: false,
        description: "where the vault is",
      },
      { name: "token", type: "string", required: true, secret: true, description: undefined },
    ]);
  });
});
