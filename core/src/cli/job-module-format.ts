import { readFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";

/** Node's errors for an ES module reached through `require`, as a job read as CommonJS does. */
const COMMONJS_IMPORT_CODES: ReadonlySet<string> = new Set([
  "ERR_REQUIRE_CYCLE_MODULE",
  "ERR_REQUIRE_ESM",
  "ERR_REQUIRE_ASYNC_MODULE",
]);

/**
 * What to do when a job module failed to import because Node read it as CommonJS (a `.ts` or
 * `.js` file under a package.json without `"type": "module"`, which `npm init` leaves out, or a
 * `.cts`/`.cjs` file): Node's own message speaks of a require cycle the user never wrote.
 * `undefined` when `error` is something else.
 *
 * @example
 * await commonJsJobHint("/home/me/app/jobs/count.ts", error);
 * // 'jobs are ES modules, but /home/me/app/jobs/count.ts is read as CommonJS: /home/me/app/package.json has no "type": "module". Add it there, or name the file count.mts'
 */
export async function commonJsJobHint(
  jobPath: string,
  error: unknown,
): Promise<string | undefined> {
  const extension = extname(jobPath);
  const esmName = `${basename(jobPath, extension)}${extension.includes("t") ? ".mts" : ".mjs"}`;
  // Whatever Node reports for one (a require cycle, or a module "not in cache"), a .cts or
  // .cjs job is CommonJS by its name and cannot load as a job.
  if (extension === ".cts" || extension === ".cjs") {
    return `jobs are ES modules, but ${jobPath} is CommonJS by its extension: name it ${esmName}`;
  }
  if (!causedByCommonJsImport(error)) return undefined;
  const manifest = await nearestPackageJson(dirname(jobPath));
  if (manifest?.type === "module") return undefined;
  const where =
    manifest === undefined ? "no package.json above it says" : `${manifest.path} has no`;
  const fix = manifest === undefined ? "Add a package.json with it" : "Add it there";
  return `jobs are ES modules, but ${jobPath} is read as CommonJS: ${where} "type": "module". ${fix}, or name the file ${esmName}`;
}

function causedByCommonJsImport(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && COMMONJS_IMPORT_CODES.has(code)) return true;
    current = current.cause;
  }
  return false;
}

async function nearestPackageJson(
  folder: string,
): Promise<{ path: string; type: unknown } | undefined> {
  for (let current = folder; ; current = dirname(current)) {
    const path = join(current, "package.json");
    try {
      const parsed: unknown = JSON.parse(await readFile(path, "utf8"));
      const type =
        typeof parsed === "object" && parsed !== null
          ? (parsed as { type?: unknown }).type
          : undefined;
      return { path, type };
    } catch {
      // No (readable) package.json here: Node looks further up too.
    }
    if (dirname(current) === current) return undefined;
  }
}
