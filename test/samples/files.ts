// Files for the sample jobs' input folders, moved in complete as the file sources require.
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Writes `text` under a hidden name in `directory`, then renames it to `name` (atomic). */
export async function dropFile(directory: string, name: string, text: string): Promise<void> {
  const hidden = join(directory, `.${name}.partial`);
  await writeFile(hidden, text);
  await rename(hidden, join(directory, name));
}

/** A fresh temporary folder; `remove` deletes it with its content. */
export async function temporaryFolder(
  prefix: string,
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `sluice-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** The non-empty lines of every file in `directory` whose name starts with `prefix`, in name order. */
export async function readLines(directory: string, prefix = ""): Promise<string[]> {
  const names = (await readdir(directory)).filter((name) => name.startsWith(prefix)).sort();
  const texts = await Promise.all(names.map((name) => readFile(join(directory, name), "utf8")));
  return texts.flatMap((text) => text.split("\n")).filter((line) => line.length > 0);
}
