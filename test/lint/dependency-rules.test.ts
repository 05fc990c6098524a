// The layer rules of `npm run lint` (.dependency-cruiser.cjs), tried on a small tree with the
// violations planted: each must be reported, and what the rules allow must not be.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const DEPCRUISE = join(REPO, "node_modules", ".bin", "depcruise");

/** module path → its source, each importing its neighbours by relative path. */
const TREE: Record<string, string> = {
  // Allowed: a cycle inside one folder, and imports downwards.
  "core/src/dstream/mapped.ts":
    'import { base } from "./base.js";\nexport const mapped = () => base;\n',
  "core/src/dstream/base.ts":
    'import { mapped } from "./mapped.js";\nimport { clamp } from "../util/clamp.js";\nexport const base = () => [mapped, clamp];\n',
  "core/src/util/clamp.ts": "export const clamp = 1;\n",
  // Planted: a cycle across two folders.
  "core/src/scheduler/generator.ts":
    'import { recorder } from "../recovery/recorder.js";\nexport const generator = () => recorder;\n',
  "core/src/recovery/recorder.ts":
    'import { generator } from "../scheduler/generator.js";\nexport const recorder = () => generator;\n',
  // Planted: reaching up into the context, and a bottom layer importing a higher one.
  "core/src/context/context.ts": "export const context = 1;\n",
  "core/src/execution/pool.ts":
    'import { context } from "../context/context.js";\nexport const pool = context;\n',
  "core/src/kernels/kernels.ts":
    'import { pool } from "../execution/pool.js";\nexport const kernels = pool;\n',
  // Planted: the connector SDK reaching into the runtime; allowed: the SDK using util/.
  "core/src/plugins/registry.ts": "export const registry = 1;\n",
  "core/src/connector/source.ts":
    'import { registry } from "../plugins/registry.js";\nimport { clamp } from "../util/clamp.js";\nexport const source = [registry, clamp];\n',
  // Planted: a connector package reaching into core's internals.
  "connectors/kafka/src/source.ts":
    'import { clamp } from "../../../core/src/util/clamp.js";\nexport const source = clamp;\n',
};

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-dependency-rules-"));
  for (const [path, source] of Object.entries(TREE)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), source);
  }
  await writeFile(
    join(root, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext" } }),
  );
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

async function violations(): Promise<Violation[]> {
  // depcruise exits non-zero when it finds violations; the JSON report is on stdout either way.
  const { stdout } = await promisify(execFile)(
    DEPCRUISE,
    [
      "core/src",
      "connectors",
      "--config",
      join(REPO, ".dependency-cruiser.cjs"),
      "--output-type",
      "json",
    ],
    { cwd: root, maxBuffer: 16 * 1024 * 1024 },
  ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }));
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe("the dependency rules", () => {
  it("report every planted violation and nothing the layers allow", async () => {
    const found = (await violations()).map(({ rule, from, to }) => `${rule.name}: ${from} → ${to}`);
    const cycles = found.filter((line) => line.startsWith("no-cross-folder-cycle: "));
    expect(cycles.length).toBeGreaterThanOrEqual(1);
    for (const cycle of cycles) {
      expect(cycle).toMatch(
        /^no-cross-folder-cycle: core\/src\/(scheduler\/generator|recovery\/recorder)\.ts → /,
      );
    }
    expect(found.filter((line) => !cycles.includes(line)).sort()).toEqual([
      "bottom-layers-stay-at-the-bottom: core/src/kernels/kernels.ts → core/src/execution/pool.ts",
      "connector-sdk-stands-alone: core/src/connector/source.ts → core/src/plugins/registry.ts",
      "connectors-use-the-connector-sdk: connectors/kafka/src/source.ts → core/src/util/clamp.ts",
      "context-only-from-above: core/src/execution/pool.ts → core/src/context/context.ts",
    ]);
  }, 60_000);
});
