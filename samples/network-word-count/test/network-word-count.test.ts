import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SeededRandom } from "../../../test/samples/seeded-random.js";
import { SluiceProcess, samplePath } from "../../../test/samples/sluice-process.js";

// Eight words, so no batch has more than print()'s ten records and nothing is cut off.
const WORDS = ["to", "be", "or", "not", "that", "is", "the", "question"];
const COUNT = /^\["([^"]+)",(\d+)\]$/;

let server: Server | undefined;
let sluice: SluiceProcess | undefined;
afterEach(async () => {
  sluice?.kill();
  sluice = undefined;
  server?.close();
  server = undefined;
});

/** The per-word totals of every batch print() showed. */
function printedTotals(stdout: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    const match = COUNT.exec(line);
    if (match === null) continue;
    const [, word, count] = match as unknown as [string, string, string];
    totals.set(word, (totals.get(word) ?? 0) + Number(count));
  }
  return totals;
}

const sum = (totals: Map<string, number>): number =>
  [...totals.values()].reduce((a, b) => a + b, 0);

describe("samples/network-word-count", () => {
  it("counts the words a TCP server sends, batch by batch", async () => {
    const random = new SeededRandom(11);
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) {
      const words = Array.from({ length: random.int(1, 9) }, () => random.pick(WORDS));
      lines.push(words.join(random.pick([" ", "  ", "\t"])));
    }
    // Ground truth: the words of every line, counted here.
    const expected = new Map<string, number>();
    for (const word of lines.flatMap((line) => line.split(/\s+/))) {
      expected.set(word, (expected.get(word) ?? 0) + 1);
    }

    // The server sends its lines in three bursts as soon as the job connects.
    const listening = createServer();
    server = listening;
    const connected = once(listening, "connection") as Promise<[Socket]>;
    listening.listen(0, "127.0.0.1");
    await once(listening, "listening");
    const address = listening.address();
    if (address === null || typeof address === "string") throw new Error("no TCP port");

    sluice = new SluiceProcess([
      "run",
      samplePath("network-word-count", "job.ts"),
      "--batch",
      "200ms",
      "--set",
      "job.host=127.0.0.1",
      "--set",
      `job.port=${address.port}`,
    ]);
    const [socket] = await connected;
    for (let part = 0; part < 3; part++) {
      socket.write(`${lines.slice(part * 100, part * 100 + 100).join("\n")}\n`);
    }

    const total = sum(expected);
    await sluice.waitForStdout(
      (stdout) => sum(printedTotals(stdout)) >= total,
      `counts adding up to ${total} words`,
    );
    const exit = await sluice.stop();
    expect(exit.code, sluice.describe()).toBe(0);
    expect(exit.stdout).toMatch(/^Time: \d+ ms$/m);
    expect(printedTotals(exit.stdout)).toEqual(expected);
    expect(exit.stderr).toMatch(
      /^network-word-count: stopped after \d+ batches, 300 records in, \d+ out$/m,
    );
    socket.destroy();
  });

  it("prints the README's batch: the words in hash-partition order, then first appearance", async () => {
    const listening = createServer();
    server = listening;
    const connected = once(listening, "connection") as Promise<[Socket]>;
    listening.listen(0, "127.0.0.1");
    await once(listening, "listening");
    const address = listening.address();
    if (address === null || typeof address === "string") throw new Error("no TCP port");

    sluice = new SluiceProcess([
      "run",
      samplePath("network-word-count", "job.ts"),
      "--set",
      "job.host=127.0.0.1",
      "--set",
      `job.port=${address.port}`,
    ]);
    const [socket] = await connected;
    // One write, so both lines are read at once and land in the same batch.
    socket.write("to be or not to be\nthat is the question\n");
    await sluice.waitForStdout((stdout) => stdout.includes('["question",1]'), "the counts");
    const exit = await sluice.stop();
    expect(exit.code, sluice.describe()).toBe(0);
    const block = exit.stdout
      .split(/^-+\nTime: \d+ ms\n-+\n/m)
      .find((batch) => batch.includes('["question",1]'));
    expect(block?.trim().split("\n")).toEqual([
      '["be",2]',
      '["not",1]',
      '["the",1]',
      '["to",2]',
      '["or",1]',
      '["that",1]',
      '["is",1]',
      '["question",1]',
    ]);
    expect(exit.stderr).toMatch(
      /^network-word-count: stopped after \d+ batches, 2 records in, 8 out$/m,
    );
    socket.destroy();
  });
});
