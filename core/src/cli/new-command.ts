import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CliError } from "./cli-error.js";
import type { CliIo } from "./run-command.js";

/** The usage of `sluice new`, shown with `sluice --help`. */
export const NEW_USAGE = `  sluice new connector <name> [--dir path] [--package npm-name]

new         writes a standalone connector package: source and sink over an in-memory stand-in
            for your system, the conformance kit wired to it, tsconfig, vitest config, README
            (--dir: where, default ./sluice-<name>; --package: its npm name, default sluice-<name>)`;

// The same folder from the sources (src/cli) and from the build (dist/cli); "files" ships it.
const TEMPLATES = fileURLToPath(new URL("../../templates/", import.meta.url));
const MANIFEST = fileURLToPath(new URL("../../package.json", import.meta.url));
const CONNECTOR_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
// The template's own placeholders: its files are a working package named after them.
const TEMPLATE_PACKAGE = "sluice-skeleton";
const TEMPLATE_NAME = "skeleton";
const TEMPLATE_CLASS = "Skeleton";
// Tools the generated package develops with; the versions Sluice itself is built and tested with.
const DEV_TOOLS: Readonly<Record<string, string>> = {
  "@types/node": "^20",
  typescript: "~5.9.3",
  vitest: "^4.1.0",
};

/** What `sluice new connector` writes. */
export interface NewConnectorOptions {
  /** The connector's name, as jobs use it: `ctx.source("<name>", …)`. */
  readonly name: string;
  /** The folder to create (must not exist, or be empty). */
  readonly directory: string;
  /** The npm package name. */
  readonly packageName: string;
}

/**
 * `sluice new connector <name>`: writes a connector package from the templates shipped with
 * Sluice and prints what to do next. Exit code 2 for a bad name or a folder in the way.
 *
 * @example
 * process.exitCode = await newCommand(["connector", "redis-streams"], io);
 */
export async function newCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const options = newConnectorOptions(argv, process.cwd());
  const files = await writeConnectorPackage(options);
  const shown = relative(process.cwd(), options.directory) || ".";
  io.stdout.write(
    `Created ${options.packageName} in ${shown} (${files.length} files): a "${options.name}" source and sink.\n\n` +
      `  cd ${shown}\n  npm install\n  npm test          # the conformance kit\n  npm run build\n\n` +
      "Then replace src/in-memory-system.ts with your system's client (see README.md).\n",
  );
  return 0;
}

/**
 * Reads `connector <name> [--dir path] [--package npm-name]`, checking each value.
 *
 * @example
 * newConnectorOptions(["connector", "redis"], "/work").directory; // "/work/sluice-redis"
 */
export function newConnectorOptions(argv: readonly string[], cwd: string): NewConnectorOptions {
  let parsed: ReturnType<typeof parseNewArgs>;
  try {
    parsed = parseNewArgs(argv);
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
  const [what, name, ...extra] = parsed.positionals;
  if (what !== "connector") {
    throw usageError(
      what === undefined ? "new: say what to create" : `new: unknown kind "${what}"`,
    );
  }
  if (name === undefined) throw usageError("new connector: give the connector's name");
  if (extra.length > 0) throw usageError(`new connector: unexpected "${extra.join(" ")}"`);
  if (!CONNECTOR_NAME.test(name)) {
    throw new CliError(
      `new connector: "${name}" is not a connector name; use lowercase letters, digits and single hyphens, starting with a letter (e.g. redis-streams)`,
      2,
    );
  }
  const packageName = parsed.values.package ?? `sluice-${name}`;
  if (!PACKAGE_NAME.test(packageName)) {
    throw new CliError(
      `new connector: --package "${packageName}" is not an npm package name (e.g. @acme/sluice-${name})`,
      2,
    );
  }
  const directory = resolve(cwd, parsed.values.dir ?? `sluice-${name}`);
  return { name, directory, packageName };
}

/**
 * Writes the connector package: the template's files with its names replaced, and a
 * package.json with `sluice` and `zod` as peer dependencies. Returns the files written,
 * relative to the package's folder.
 *
 * @example
 * await writeConnectorPackage({ name: "redis", directory: "/work/sluice-redis", packageName: "sluice-redis" });
 */
export async function writeConnectorPackage(options: NewConnectorOptions): Promise<string[]> {
  if (existsSync(options.directory) && (await readdir(options.directory)).length > 0) {
    throw new CliError(
      `new connector: ${options.directory} is not empty; give another folder with --dir`,
      2,
    );
  }
  const template = join(TEMPLATES, "connector");
  const written: string[] = [];
  for (const file of await templateFiles(template)) {
    const target = targetPath(file, options);
    const text = substitute(await readFile(join(template, file), "utf8"), options);
    await mkdir(join(options.directory, target, ".."), { recursive: true });
    await writeFile(join(options.directory, target), text);
    written.push(target);
  }
  await writeFile(join(options.directory, "package.json"), packageManifest(options));
  written.push("package.json");
  return written.sort();
}

function parseNewArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { dir: { type: "string" }, package: { type: "string" } },
  });
}

function usageError(message: string): CliError {
  return new CliError(`${message}\nUsage:\n${NEW_USAGE}`, 2);
}

/** Every file under `root`, relative to it. */
async function templateFiles(root: string, folder = root): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) files.push(...(await templateFiles(root, path)));
    else if (entry.isFile()) files.push(relative(root, path));
  }
  return files.sort();
}

/** `src/skeleton-source.ts` → `src/<name>-source.ts`; `gitignore` → `.gitignore` (npm drops dotfiles named .gitignore from packages). */
function targetPath(file: string, options: NewConnectorOptions): string {
  if (basename(file) === "gitignore") return join(file, "..", ".gitignore");
  return file.replaceAll(TEMPLATE_NAME, options.name);
}

function substitute(text: string, options: NewConnectorOptions): string {
  return text
    .replaceAll(TEMPLATE_PACKAGE, options.packageName)
    .replaceAll(TEMPLATE_CLASS, className(options.name))
    .replaceAll(TEMPLATE_NAME, options.name);
}

/** `redis-streams` → `RedisStreams`. */
function className(name: string): string {
  return name
    .split("-")
    .map((part) => `${part.charAt(0).toUpperCase()}${part.slice(1)}`)
    .join("");
}

function packageManifest(options: NewConnectorOptions): string {
  const sluice = JSON.parse(readFileSync(MANIFEST, "utf8")) as {
    version: string;
    dependencies?: Record<string, string>;
  };
  const sluiceRange = `^${sluice.version}`;
  const zodRange = sluice.dependencies?.zod ?? "^4.0.0";
  const manifest = {
    name: options.packageName,
    version: "0.1.0",
    description: `Sluice source and sink connectors for ${options.name}.`,
    type: "module",
    keywords: ["sluice", "sluice-plugin", options.name, "connector"],
    main: "./dist/index.js",
    types: "./dist/index.d.ts",
    exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
    files: ["dist"],
    engines: { node: ">=20" },
    scripts: {
      build: "tsc -p tsconfig.build.json",
      typecheck: "tsc -p tsconfig.json",
      test: "vitest run",
    },
    // A job brings its own sluice and zod; the plugins must use those, not copies of their own.
    peerDependencies: { sluice: sluiceRange, zod: "^4.0.0" },
    devDependencies: { ...DEV_TOOLS, sluice: sluiceRange, zod: zodRange },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
