// `sluice new connector`: the package it writes (names replaced everywhere, peer dependencies)
// and the errors for a bad name or a folder in the way. Building it and running the kit on it
// is test/install/connector-scaffold.test.ts.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { newConnectorOptions, writeConnectorPackage } from "../../src/cli/new-command.js";
import { captureIo } from "./capture-io.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-new-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("sluice new connector", () => {
  it("writes a package named after the connector, with sluice and zod as peer dependencies", async () => {
    const directory = join(root, "out");
    const files = await writeConnectorPackage({
      name: "redis-streams",
      directory,
      packageName: "@acme/sluice-redis-streams",
    });
    expect(files).toEqual(
      expect.arrayContaining([
        ".gitignore",
        "README.md",
        "package.json",
        "tsconfig.json",
        "tsconfig.build.json",
        "vitest.config.ts",
        "src/index.ts",
        "src/redis-streams-source.ts",
        "src/redis-streams-sink.ts",
        "test/fixtures.ts",
        "test/source.conformance.test.ts",
        "test/sink.conformance.test.ts",
      ]),
    );
    const texts = await Promise.all(files.map((file) => readFile(join(directory, file), "utf8")));
    for (const [index, text] of texts.entries()) {
      expect(text, files[index]).not.toMatch(/skeleton/i);
    }
    const index = await readFile(join(directory, "src/index.ts"), "utf8");
    expect(index).toContain('name: "redis-streams"');
    expect(index).toContain("export const RedisStreamsSourcePlugin = defineSource(");
    const manifest = JSON.parse(await readFile(join(directory, "package.json"), "utf8"));
    expect(manifest.name).toBe("@acme/sluice-redis-streams");
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(["sluice", "zod"]);
    expect(manifest.dependencies).toBeUndefined();
    expect(Object.keys(manifest.devDependencies)).toEqual(
      expect.arrayContaining(["sluice", "zod", "vitest", "typescript"]),
    );
    expect(manifest.keywords).toContain("sluice-plugin");
  });

  it("writes into ./sluice-<name> by default and says what to do next", async () => {
    const options = newConnectorOptions(["connector", "orders"], root);
    expect(options).toEqual({
      name: "orders",
      directory: join(root, "sluice-orders"),
      packageName: "sluice-orders",
    });
    const io = captureIo();
    const code = await main(["new", "connector", "orders", "--dir", join(root, "x")], io);
    expect(io.err()).toBe("");
    expect(code).toBe(0);
    expect(io.out()).toContain("npm test");
  });

  it("refuses a name jobs could not use, a folder that is not empty, and a missing name", async () => {
    const badName = captureIo();
    expect(await main(["new", "connector", "Redis_Streams", "--dir", root], badName)).toBe(2);
    expect(badName.err()).toContain('"Redis_Streams" is not a connector name');

    await mkdir(join(root, "taken"));
    await writeFile(join(root, "taken", "keep.txt"), "mine");
    const taken = captureIo();
    expect(await main(["new", "connector", "orders", "--dir", join(root, "taken")], taken)).toBe(2);
    expect(taken.err()).toContain("is not empty");
    expect(await readFile(join(root, "taken", "keep.txt"), "utf8")).toBe("mine");

    const missing = captureIo();
    expect(await main(["new", "connector"], missing)).toBe(2);
    expect(missing.err()).toContain("give the connector's name");
  });

  it("is listed in --help", async () => {
    const io = captureIo();
    expect(await main(["--help"], io)).toBe(0);
    expect(io.out()).toContain("sluice new connector <name>");
  });
});
