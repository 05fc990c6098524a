import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SluiceError } from "../errors/sluice-error.js";

/**
 * The script every executor thread starts with. It registers tsx's module hooks first when the
 * code it imports is TypeScript: on Node 20, `--import tsx` in a Worker's `execArgv` does not
 * reach the worker's module loader (the entry fails with ERR_UNKNOWN_FILE_EXTENSION), while
 * tsx's `register()` called inside the worker does.
 */
export const BOOTSTRAP_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
(async () => {
  if (workerData.tsx !== undefined) {
    const api = await import(workerData.tsx);
    api.register(workerData.tsconfig === undefined ? {} : { tsconfig: workerData.tsconfig });
  }
  await import(workerData.entry);
})().catch((error) => {
  parentPort.postMessage({
    type: "boot-failed",
    error: {
      name: (error && error.name) || "Error",
      message: String((error && error.message) || error),
      stack: error && error.stack,
      code: error && typeof error.code === "string" ? error.code : undefined,
      streamId: undefined,
    },
  });
  process.exitCode = 1;
});
`;

/** What the bootstrap script reads from `workerData`. */
export interface BootstrapData {
  /** The executor's entry module (`worker-main`). */
  readonly entry: string;
  /** tsx's ESM API to register, when TypeScript is imported. */
  readonly tsx: string | undefined;
  /**
   * The tsconfig tsx should resolve paths with: the nearest one above the job module, or
   * Sluice's own when it runs from its sources.
   */
  readonly tsconfig: string | undefined;
}

const TYPESCRIPT = /\.(ts|mts|cts|tsx)$/;

/**
 * The bootstrap's data for executors that run `jobModules` (file URLs), entering at this
 * package's `worker-main`.
 *
 * @example
 * const data = bootstrapData(["file:///app/job.ts"]);
 */
export function bootstrapData(jobModules: ReadonlyArray<string>): BootstrapData {
  const ownExtension = import.meta.url.endsWith(".ts") ? "ts" : "js";
  const entry = new URL(`./worker-main.${ownExtension}`, import.meta.url).href;
  const typescript =
    ownExtension === "ts" || jobModules.some((module) => TYPESCRIPT.test(new URL(module).pathname));
  if (!typescript) return { entry, tsx: undefined, tsconfig: undefined };
  const firstTs = jobModules.find((module) => TYPESCRIPT.test(new URL(module).pathname));
  return {
    entry,
    tsx: tsxEsmApi(),
    // Sluice run from its sources (a checkout) compiles them with its own settings
    // (decorators), as its command line does on the main thread, whatever the job's own say.
    tsconfig:
      ownExtension === "ts"
        ? fileURLToPath(new URL("../../../tsconfig.json", import.meta.url))
        : nearestTsconfig(new URL(firstTs ?? import.meta.url)),
  };
}

/** The file URL of tsx's ESM register API, or a clear error when tsx is not installed. */
function tsxEsmApi(): string {
  try {
    const require = createRequire(import.meta.url);
    const manifestPath = require.resolve("tsx/package.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
      exports?: Record<string, { import?: { default?: string } }>;
    };
    const relative = manifest.exports?.["./esm/api"]?.import?.default ?? "./dist/esm/api/index.mjs";
    return pathToFileURL(join(dirname(manifestPath), relative)).href;
  } catch (error) {
    throw new SluiceError(
      "SLUICE_EXECUTOR_FAILED",
      "executors need tsx to import TypeScript job modules: install it (npm install -D tsx) or build the job to JavaScript",
      { cause: error },
    );
  }
}

function nearestTsconfig(module: URL): string | undefined {
  let dir = dirname(module.pathname);
  for (;;) {
    const candidate = join(dir, "tsconfig.json");
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
