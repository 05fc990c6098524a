import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileSink } from "sluice";
import { describeSinkConformance } from "sluice/testing/conformance";

/** Every line of every visible file in `directory`, files in name (= batch time) order. */
async function readLines(directory: string): Promise<Uint8Array[]> {
  const names = (await readdir(directory)).filter((name) => !name.startsWith(".")).sort();
  const lines: Uint8Array[] = [];
  for (const name of names) {
    const text = await readFile(join(directory, name), "utf8");
    for (const line of text.split("\n").slice(0, -1)) lines.push(new TextEncoder().encode(line));
  }
  return lines;
}

describeSinkConformance(
  "file",
  async () => {
    const root = await mkdtemp(join(tmpdir(), "sluice-file-sink-"));
    const directory = join(root, "out");
    return {
      plugin: fileSink,
      config: { directory },
      readBack: () => readLines(directory),
      cleanup: () => rm(root, { recursive: true, force: true }),
    };
  },
  {
    invalidConfig: {
      config: { directory: "", prefix: ".hidden", format: "csv" },
      paths: ["directory", "prefix", "format"],
    },
    notApplicable: { reconnect: "a folder has no connection to drop" },
  },
);
