import { PassThrough } from "node:stream";
import { consoleSink } from "sluice";
import { describeSinkConformance } from "sluice/testing/conformance";

const RULE = "-------------------------------------------";

describeSinkConformance(
  "console",
  () => {
    const captured: string[] = [];
    const stdout = new PassThrough();
    stdout.on("data", (chunk: Buffer) => captured.push(chunk.toString("utf8")));
    return {
      plugin: consoleSink,
      config: { maxRecords: 1_000 },
      registryOptions: { consoleStreams: { stdout, stderr: new PassThrough() } },
      // The printed values, without Spark-style batch headers.
      readBack: async () =>
        captured
          .join("")
          .split("\n")
          .filter((line) => line !== RULE && !line.startsWith("Time: ") && line !== "")
          .map((line) => new TextEncoder().encode(line)),
    };
  },
  {
    invalidConfig: {
      config: { stream: "stdlog", maxRecords: -1, colour: true },
      paths: ["stream", "maxRecords", "colour"],
    },
    notApplicable: { reconnect: "the process's own streams have no connection to drop" },
  },
);
