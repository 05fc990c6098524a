// Packs Sluice's packages as they would be published and installs the tarballs into a fresh
// project the way a user without a Rust toolchain does: `cargo` is not on PATH, every other
// dependency comes from the registry through npm's usual cache.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The platform package built here: `@sluice/native-linux-x64-gnu`, in the napi-rs layout. */
export const PLATFORM_PACKAGE_DIR = join(REPO_ROOT, "native/binding/npm/linux-x64-gnu");

const BINARY = "sluice-native.linux-x64-gnu.node";

/** How a child process ended and what it printed. */
export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The three tarballs `npm pack` made. */
export interface Tarballs {
  readonly sluice: string;
  readonly native: string;
  readonly platform: string;
}

/**
 * The environment of a machine without Rust: PATH without any folder that holds `cargo`, and
 * none of the variables an enclosing `npm run` or test run sets that would change how npm or
 * Sluice behave (lifecycle `npm_*` variables, `NODE_ENV=test`, `SLUICE_FORCE_JS`, napi-rs
 * overrides). Sluice logs at info so the kernels' choice is printed.
 *
 * @example
 * spawnSync("cargo", { env: toolchainFreeEnv() }).error; // ENOENT
 */
export function toolchainFreeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith("npm_") || name.startsWith("NAPI_RS_") || name.startsWith("SLUICE_")) {
      continue;
    }
    if (name === "NODE_ENV" || name === "INIT_CWD") continue;
    env[name] = value;
  }
  env.PATH = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir !== "" && !existsSync(join(dir, "cargo")))
    .join(delimiter);
  env.SLUICE_LOG_LEVEL = "info";
  return env;
}

/**
 * Runs a command to its end and collects its output; fails on a spawn error or after
 * `timeoutMs` (the process is killed), never on a non-zero exit code: callers check `code`.
 *
 * @example
 * const { code, stdout } = await runProcess("npm", ["--version"], { cwd: "/tmp", env });
 */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timeoutMs = options.timeoutMs ?? 120_000;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `${command} ${args.join(" ")} did not finish in ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Fails with what to do when the build the tarballs are made of is missing or stale: the
 * compiled `sluice` (core/dist) and the addon copied into the platform package, both made by
 * `npm run build` (the addon needs cargo on the machine that builds it).
 *
 * @example
 * requireBuiltPackages();
 */
export function requireBuiltPackages(): void {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(
      `the prebuilt package is @sluice/native-linux-x64-gnu; this machine is ${process.platform}-${process.arch}`,
    );
  }
  for (const file of ["core/dist/index.js", "core/dist/cli/main.js"]) {
    if (!existsSync(join(REPO_ROOT, file))) {
      throw new Error(`${file} is missing: run \`npm run build\` before this test`);
    }
  }
  const packaged = join(PLATFORM_PACKAGE_DIR, BINARY);
  if (!existsSync(packaged)) {
    throw new Error(
      `native/binding/npm/linux-x64-gnu/${BINARY} is missing: run \`npm run build\` with cargo on PATH before this test`,
    );
  }
  const local = join(REPO_ROOT, "native/binding", BINARY);
  if (existsSync(local) && !readFileSync(local).equals(readFileSync(packaged))) {
    throw new Error(
      `native/binding/${BINARY} differs from the copy in npm/linux-x64-gnu: run \`npm run build\``,
    );
  }
}

/**
 * `npm pack`s `sluice`, `@sluice/native` and `@sluice/native-linux-x64-gnu` into `destination`
 * from what is built (lifecycle scripts off: the test builds nothing).
 *
 * @example
 * const tarballs = await packPackages("/tmp/packs");
 */
export async function packPackages(destination: string): Promise<Tarballs> {
  const env = toolchainFreeEnv();
  const tarballs = new Map<string, string>();
  const pack = async (cwd: string, args: readonly string[]): Promise<void> => {
    const result = await runProcess(
      "npm",
      ["pack", "--json", "--ignore-scripts", "--pack-destination", destination, ...args],
      { cwd, env },
    );
    if (result.code !== 0) {
      throw new Error(`npm pack ${args.join(" ")} failed (${result.code}):\n${result.stderr}`);
    }
    const packed = JSON.parse(result.stdout) as { name: string; filename: string }[];
    for (const { name, filename } of packed) tarballs.set(name, join(destination, filename));
  };
  await pack(REPO_ROOT, ["-w", "sluice", "-w", "@sluice/native"]);
  await pack(PLATFORM_PACKAGE_DIR, []);
  const tarball = (name: string): string => {
    const path = tarballs.get(name);
    if (path === undefined) throw new Error(`npm pack made no tarball for ${name}`);
    return path;
  };
  return {
    sluice: tarball("sluice"),
    native: tarball("@sluice/native"),
    platform: tarball("@sluice/native-linux-x64-gnu"),
  };
}

/**
 * Makes an empty project in `dir` and `npm install`s the tarballs into it without cargo on PATH.
 *
 * @example
 * await installProject("/tmp/app", [tarballs.sluice, tarballs.native]);
 */
export async function installProject(dir: string, tarballs: readonly string[]): Promise<void> {
  await writeFile(
    join(dir, "package.json"),
    `${JSON.stringify({ name: "word-count-app", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`,
  );
  const result = await runProcess(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs],
    { cwd: dir, env: toolchainFreeEnv(), timeoutMs: 180_000 },
  );
  if (result.code !== 0) {
    throw new Error(`npm install in ${dir} failed (${result.code}):\n${result.stderr}`);
  }
}

/**
 * Runs `npm <args>` in an existing project without cargo on PATH and fails with npm's output
 * when it exits non-zero.
 *
 * @example
 * await npmIn("/tmp/connector", ["install", "--save-dev", tarballs.sluice, tarballs.native]);
 */
export async function npmIn(
  dir: string,
  args: readonly string[],
  timeoutMs = 180_000,
): Promise<ProcessResult> {
  // npm's own flags first: whatever follows `--` in args belongs to the script.
  const result = await runProcess("npm", ["--no-audit", "--no-fund", "--loglevel=error", ...args], {
    cwd: dir,
    env: toolchainFreeEnv(),
    timeoutMs,
  });
  if (result.code !== 0) {
    throw new Error(
      `npm ${args.join(" ")} in ${dir} failed (${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}
