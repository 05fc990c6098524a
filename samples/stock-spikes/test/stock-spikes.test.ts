import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readLines, temporaryFolder } from "../../../test/samples/files.js";
import { runSluice, samplePath } from "../../../test/samples/sluice-process.js";
import { expectAlertsMatchFeed, priceFeed, type WrittenAlert } from "./price-feed.js";

let folder: { path: string; remove: () => Promise<void> };
let server: Server | undefined;
beforeEach(async () => {
  folder = await temporaryFolder("stock-spikes");
});
afterEach(async () => {
  server?.close();
  server = undefined;
  await folder.remove();
});

describe("samples/stock-spikes from a socket", () => {
  it("alerts on exactly the symbols whose price jumped, with the quotes that show it", async () => {
    const feed = priceFeed(5);
    const lines = feed.ticks.map((tick) => JSON.stringify(tick));
    lines.splice(100, 0, "ACME lots"); // a malformed tick, skipped with a message

    // The server sends the feed in four parts to the job that connects, then closes.
    const listening = createServer((socket: Socket) => {
      const part = Math.ceil(lines.length / 4);
      for (let i = 0; i < lines.length; i += part) {
        socket.write(`${lines.slice(i, i + part).join("\n")}\n`);
      }
      socket.end();
    });
    server = listening;
    listening.listen(0, "127.0.0.1");
    await once(listening, "listening");
    const address = listening.address();
    if (address === null || typeof address === "string") throw new Error("no TCP port");

    // The server's close ends the input (onServerClose: end), so the CLI stops by itself.
    const run = await runSluice([
      "run",
      samplePath("stock-spikes", "job.ts"),
      "--batch",
      "100ms",
      "--set",
      "job.source.host=127.0.0.1",
      "--set",
      `job.source.port=${address.port}`,
      "--set",
      "job.source.onServerClose=end",
      "--set",
      "job.window=1s",
      "--set",
      "job.slide=100ms",
      "--set",
      "job.alerts.type=file",
      "--set",
      `job.alerts.directory=${folder.path}`,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /^stock-spikes: stopped after \d+ batches, 401 records in, \d+ out$/m,
    );
    expect(run.stderr).toMatch(
      /^skipped a tick \(127\.0\.0\.1:\d+ at offset 100\): price of ACME must be a positive number, got "lots"$/m,
    );

    const alerts = (await readLines(folder.path, "alerts")).map(
      (line) => JSON.parse(line) as WrittenAlert,
    );
    expect(alerts.length).toBeGreaterThan(0);
    expectAlertsMatchFeed(alerts, feed, 5);
    // Every alert is printed too.
    const printed = run.stdout.split("\n").filter((line) => line.startsWith("ALERT "));
    expect(printed).toHaveLength(alerts.length);
    expect(
      printed.some((line) => /^ALERT ACME \+1\d\.\d\d% in the window ending /.test(line)),
    ).toBe(true);
    expect(printed.some((line) => /^ALERT GLOBEX -\d+\.\d\d% /.test(line))).toBe(true);
  });
});
