import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileSource } from "sluice";
import { describeSourceConformance } from "sluice/testing/conformance";

describeSourceConformance(
  "file",
  async () => {
    const directory = await mkdtemp(join(tmpdir(), "sluice-file-source-"));
    const decoder = new TextDecoder();
    let files = 0;
    return {
      plugin: fileSource,
      config: { directory, pollIntervalMs: 50, endMarker: "_DONE" },
      // One file per call, written under a hidden name and moved in when complete.
      async produce(values) {
        const name = `input-${String(files++).padStart(4, "0")}.txt`;
        const hidden = join(directory, `.${name}.tmp`);
        await writeFile(hidden, values.map((value) => `${decoder.decode(value)}\n`).join(""));
        await rename(hidden, join(directory, name));
      },
      endInput: () => writeFile(join(directory, "_DONE"), ""),
      cleanup: () => rm(directory, { recursive: true, force: true }),
    };
  },
  {
    invalidConfig: {
      config: { directory: "", format: "xml", pollIntervalMs: 1 },
      paths: ["directory", "format", "pollIntervalMs"],
    },
    notApplicable: {
      reconnect:
        "a folder has no connection to drop; a folder that goes missing is retried like one (file-source.test.ts)",
      ackAfterOutput:
        "a folder keeps no acknowledgement: the file source's position lives in Sluice's checkpoint, checked by the restart and seek cases",
    },
  },
);
