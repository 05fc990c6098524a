import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type ConnectorPlugin, isConnectorPlugin, pluginProblems } from "../connector/plugin.js";
import { SluiceError } from "../errors/sluice-error.js";

const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
// The conditions Node uses when it `import`s a package.
const CONDITIONS = new Set(["node", "import", "default"]);

/** Where a package was found and the file its `import` entry point names. */
export interface ResolvedPackage {
  readonly directory: string;
  readonly entry: string;
}

/**
 * Imports the npm package `name`, searched in `node_modules` folders from `resolveFrom` upward
 * as Node does, and returns the connector plugins it exports: its default export (a plugin, an
 * array of plugins, or an object holding them), an exported `plugins` array, and any other
 * export that is a plugin.
 *
 * @example
 * const plugins = await importPluginPackage("@acme/sluice-redis", process.cwd());
 */
export async function importPluginPackage(
  name: string,
  resolveFrom: string,
): Promise<ConnectorPlugin[]> {
  if (!PACKAGE_NAME.test(name)) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `"${name}" is not an npm package name; list plugins by package name, e.g. "@acme/sluice-redis".`,
    );
  }
  const found = resolvePackage(name, resolveFrom);
  if (found === undefined) {
    throw new SluiceError(
      "SLUICE_PLUGIN_NOT_FOUND",
      `Plugin package "${name}" is not installed (no node_modules/${name} from ${resolve(resolveFrom)} upward). Install it with \`npm install ${name}\`, or remove it from \`plugins\`.`,
    );
  }
  if (!existsSync(found.entry)) {
    // A package of a workspace or a checkout that was never built points at output not there.
    throw new SluiceError(
      "SLUICE_PLUGIN_LOAD_FAILED",
      `Plugin package "${name}" is installed but the file its package.json names to import, ${found.entry}, does not exist: the package is not built. Build it (in an npm workspace: \`npm run build --workspace ${name}\`), or install a published version.`,
    );
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(found.entry).href)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SluiceError(
      "SLUICE_PLUGIN_LOAD_FAILED",
      `Plugin package "${name}" (${found.entry}) failed to load: ${reason}`,
      { cause: error },
    );
  }
  const plugins = pluginsFromModule(module);
  if (plugins.length === 0) {
    const exported = Object.keys(module);
    const malformed = malformedPluginProblems(module);
    throw new SluiceError(
      "SLUICE_PLUGIN_INVALID",
      `Package "${name}" (${found.entry}) exports no Sluice plugin. A connector package exports a plugin made with defineSource() or defineSink(), as its default export or in an exported \`plugins\` array. It exports: ${exported.length > 0 ? exported.join(", ") : "nothing"}.${malformed}`,
    );
  }
  return plugins;
}

/**
 * The plugins among a module's exports, each once, in export order.
 *
 * @example
 * pluginsFromModule(await import("./my-connector.js"));
 */
export function pluginsFromModule(module: Readonly<Record<string, unknown>>): ConnectorPlugin[] {
  const found: ConnectorPlugin[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (isConnectorPlugin(value)) {
      if (!found.includes(value)) found.push(value);
      return;
    }
    if (depth >= 2 || value === null || typeof value !== "object") return;
    const children = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) visit(child, depth + 1);
  };
  visit(module.default, 0);
  visit(module.plugins, 0);
  for (const value of Object.values(module)) visit(value, 1);
  return found;
}

/**
 * Finds package `name` from `from` upward and the file Node would import for it (its
 * `exports["."]` for the node/import/default conditions, else `main`, else `index.js`).
 *
 * @example
 * resolvePackage("zod", process.cwd())?.entry;
 */
export function resolvePackage(name: string, from: string): ResolvedPackage | undefined {
  let directory = resolve(from);
  for (;;) {
    const candidate = join(directory, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) {
      return { directory: candidate, entry: entryOf(name, candidate) };
    }
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

function entryOf(name: string, directory: string): string {
  const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as {
    exports?: unknown;
    main?: unknown;
  };
  let target: string | undefined;
  if (manifest.exports !== undefined) {
    const root = rootExport(manifest.exports);
    target = root === undefined ? undefined : conditionalTarget(root);
    if (target === undefined) {
      throw new SluiceError(
        "SLUICE_PLUGIN_INVALID",
        `Package "${name}" (${directory}) has no "." export Node can import (conditions: ${[...CONDITIONS].join(", ")}); add one to its package.json "exports".`,
      );
    }
  } else {
    target = typeof manifest.main === "string" ? manifest.main : "index.js";
  }
  let file = resolve(directory, target);
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.js");
  else if (!existsSync(file) && existsSync(`${file}.js`)) file = `${file}.js`;
  return file;
}

function rootExport(exports: unknown): unknown {
  if (typeof exports === "string" || Array.isArray(exports)) return exports;
  if (exports === null || typeof exports !== "object") return undefined;
  const keys = Object.keys(exports);
  if (keys.some((key) => key.startsWith("."))) return (exports as Record<string, unknown>)["."];
  return exports;
}

function conditionalTarget(target: unknown): string | undefined {
  if (typeof target === "string") return target;
  if (Array.isArray(target)) {
    for (const option of target) {
      const resolved = conditionalTarget(option);
      if (resolved !== undefined) return resolved;
    }
    return undefined;
  }
  if (target === null || typeof target !== "object") return undefined;
  for (const [condition, value] of Object.entries(target)) {
    if (!CONDITIONS.has(condition)) continue;
    const resolved = conditionalTarget(value);
    if (resolved !== undefined) return resolved;
  }
  return undefined;
}

// When an export looks like an attempt at a plugin, say what is wrong with it.
function malformedPluginProblems(module: Readonly<Record<string, unknown>>): string {
  const notes: string[] = [];
  for (const [exportName, value] of Object.entries(module)) {
    if (value === null || typeof value !== "object" || !("kind" in value || "create" in value)) {
      continue;
    }
    notes.push(`\n  - export "${exportName}": ${pluginProblems(value).join("; ")}`);
  }
  return notes.length > 0
    ? ` Exports that look like plugins but are not well-formed:${notes.join("")}`
    : "";
}
