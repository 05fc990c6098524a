import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SluiceError } from "sluice";
import { ConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoNodeModules = fileURLToPath(new URL("../../../node_modules", import.meta.url));

// A plugin written the way a package built against another copy of Sluice would be: plain
// objects of the right shape, with a zod schema.
const PLUGIN_SOURCE = (name: string, kind: "source" | "sink") => `
export const ${kind}Plugin = {
  sluicePlugin: 1,
  kind: "${kind}",
  name: "${name}",
  version: "2.0.0",
  config: z.object({ greeting: z.string() }),
  capabilities: ${kind === "source" ? "{ replayable: false }" : "{ idempotent: true }"},
  create: (config) => ({
    greeting: config.greeting,
    async connect() {},
    async read() { return { records: [], ack() {} }; },
    pause() {}, resume() {},
    async writeBatch() {},
    async close() {},
  }),
};
`;

let app: string;

async function writePackage(
  name: string,
  manifest: object,
  files: Record<string, string>,
): Promise<void> {
  const directory = join(app, "node_modules", name);
  await mkdir(directory, { recursive: true });
  await writeFile(
    join(directory, "package.json"),
    JSON.stringify({ name, version: "1.0.0", ...manifest }),
  );
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(directory, file)), { recursive: true });
    await writeFile(join(directory, file), text);
  }
}

function registry(): ConnectorRegistry {
  return new ConnectorRegistry({ logger: new LogCapture().logger });
}

async function loadError(names: string[], from = app): Promise<SluiceError> {
  const target = registry();
  try {
    await target.loadPlugins(names, { resolveFrom: from });
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  } finally {
    await target.dispose();
  }
  throw new Error("the plugins loaded");
}

beforeAll(async () => {
  app = await mkdtemp(join(tmpdir(), "sluice-plugins-"));
  await mkdir(join(app, "node_modules"), { recursive: true });
  await symlink(join(repoNodeModules, "zod"), join(app, "node_modules", "zod"), "dir");
  await writePackage(
    "@acme/sluice-echo",
    {
      type: "module",
      exports: { ".": { types: "./x.d.ts", import: "./esm/index.js", require: "./cjs.cjs" } },
    },
    {
      "esm/index.js": `import { z } from "zod";${PLUGIN_SOURCE("echo", "source")}${PLUGIN_SOURCE("echo", "sink")}
export const plugins = [sourcePlugin, sinkPlugin];`,
    },
  );
  await writePackage(
    "sluice-default-export",
    { type: "module", main: "lib/main.js" },
    {
      "lib/main.js": `import { z } from "zod";${PLUGIN_SOURCE("greeter", "source")}\nexport default sourcePlugin;`,
    },
  );
  await writePackage(
    "left-pad-ish",
    { type: "module" },
    { "index.js": 'export const pad = (s) => " " + s;\nexport default { version: 1 };' },
  );
  await writePackage(
    "sluice-half-plugin",
    { type: "module" },
    { "index.js": 'export default { kind: "source", name: "half", create() {} };' },
  );
  await writePackage(
    "sluice-throws",
    { type: "module" },
    { "index.js": 'throw new Error("REDIS_URL is not set");' },
  );
  await writePackage(
    "sluice-not-built",
    { type: "module", exports: { ".": { import: "./dist/index.js" } } },
    { "src/index.ts": "export {};" },
  );
  await writePackage(
    "sluice-no-root-export",
    { exports: { "./extra": "./extra.js" } },
    { "extra.js": "" },
  );
});

afterAll(async () => {
  await rm(app, { recursive: true, force: true });
});

describe("loading plugins by package name", () => {
  it("registers every plugin a package exports, found from a nested folder upward", async () => {
    const target = registry();
    const nested = join(app, "jobs", "daily");
    await mkdir(nested, { recursive: true });
    const loaded = await target.loadPlugins(["@acme/sluice-echo", "sluice-default-export"], {
      resolveFrom: nested,
    });
    expect(loaded.map((plugin) => `${plugin.kind}:${plugin.name}@${plugin.version}`)).toEqual([
      "source:echo@2.0.0",
      "sink:echo@2.0.0",
      "source:greeter@2.0.0",
    ]);
    const echo = target.createSource("echo", { greeting: "hi" });
    expect((echo.connector as unknown as { greeting: string }).greeting).toBe("hi");
    expect(target.sinkPlugin("echo").capabilities.idempotent).toBe(true);
    await target.dispose();
  });

  it("says a missing package is not installed and how to install it", async () => {
    const error = await loadError(["@acme/sluice-redis"]);
    expect(error.code).toBe("SLUICE_PLUGIN_NOT_FOUND");
    expect(error.message).toContain('Plugin package "@acme/sluice-redis" is not installed');
    expect(error.message).toContain("npm install @acme/sluice-redis");
  });

  it("says a package that exports no plugin exports none, and what it does export", async () => {
    const error = await loadError(["left-pad-ish"]);
    expect(error.code).toBe("SLUICE_PLUGIN_INVALID");
    expect(error.message).toContain('Package "left-pad-ish"');
    expect(error.message).toContain("exports no Sluice plugin");
    expect(error.message).toContain("It exports: default, pad.");
  });

  it("explains what is wrong with an export that tries to be a plugin", async () => {
    const error = await loadError(["sluice-half-plugin"]);
    expect(error.code).toBe("SLUICE_PLUGIN_INVALID");
    expect(error.message).toContain('export "default"');
    expect(error.message).toContain("version must be a non-empty string");
    expect(error.message).toContain("config must be a zod 4 schema");
  });

  it("reports a package that fails while loading, with the cause", async () => {
    const error = await loadError(["sluice-throws"]);
    expect(error.code).toBe("SLUICE_PLUGIN_LOAD_FAILED");
    expect(error.message).toContain("REDIS_URL is not set");
    expect(error.cause).toBeInstanceOf(Error);
  });

  it("says a package whose import file does not exist is not built, and how to build it", async () => {
    const error = await loadError(["sluice-not-built"]);
    expect(error.code).toBe("SLUICE_PLUGIN_LOAD_FAILED");
    expect(error.message).toMatch(
      /sluice-not-built.*dist\/index\.js, does not exist: the package is not built/,
    );
    expect(error.message).toContain("npm run build");
  });

  it("reports a package without an importable root export", async () => {
    const error = await loadError(["sluice-no-root-export"]);
    expect(error.code).toBe("SLUICE_PLUGIN_INVALID");
    expect(error.message).toContain('has no "." export');
  });

  it("refuses something that is not a package name", async () => {
    const error = await loadError(["../secrets/plugin.js"]);
    expect(error.code).toBe("SLUICE_INVALID_ARGUMENT");
  });
});
