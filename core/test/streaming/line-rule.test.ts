// One line rule for every line-oriented input: the same bytes give the same lines through
// textFileStream, the file source in lines mode and socketTextStream (docs/streaming.md, "Lines").
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { batchRecords, type SourceRecord, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import { batchesUntil } from "./events.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

// The file source reads 64 KiB at a time: this line's terminator ends 2 bytes before that
// boundary, so the 4-byte character after it is cut across the first and the second read.
const LONG_LINE = "a".repeat(64 * 1024 - 3);

/** Each file's text and the lines the rule gives: `\n` ends a line, a `\r` before it or at the end is dropped. */
const FILES: ReadonlyArray<{ name: string; text: string; lines: string[] }> = [
  { name: "crlf.txt", text: "a\r\nb\r\n", lines: ["a", "b"] },
  { name: "lone-cr.txt", text: "x\ry\nz\r\n", lines: ["x\ry", "z"] },
  { name: "empty-last-line.txt", text: "p\n\n", lines: ["p", ""] },
  { name: "only-newline.txt", text: "\n", lines: [""] },
  { name: "no-trailing-newline.txt", text: "q\nlast", lines: ["q", "last"] },
  { name: "cr-at-end.txt", text: "m\r", lines: ["m"] },
  {
    name: "utf8-across-reads.txt",
    text: `${LONG_LINE}\n😀 après\nnaïve €\n`,
    lines: [LONG_LINE, "😀 après", "naïve €"],
  },
];

const byJson = (lists: string[][]): string[][] =>
  [...lists].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

const expectedLineCount = FILES.reduce((sum, file) => sum + file.lines.length, 0);

describe("one line rule", () => {
  let root: string | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    if (root !== undefined) await rm(root, { recursive: true, force: true });
    root = undefined;
  });

  it("textFileStream gives each file the lines the file source in lines mode gives", async () => {
    root = await mkdtemp(join(tmpdir(), "sluice-line-rule-"));
    for (const file of FILES) await writeFile(join(root, file.name), file.text);
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const textFilePartitions: string[][] = [];
    ctx.textFileStream(root, { newFilesOnly: false }).foreachBatch((batch) => {
      for (const partition of batch.partitions) textFilePartitions.push([...partition]);
    });
    const sourceLines = new Map<string, string[]>();
    ctx
      .source("file", { directory: root, format: "lines", startAt: "earliest" })
      .foreachBatch((batch) => {
        for (const record of batchRecords(batch) as SourceRecord[]) {
          const lines = sourceLines.get(record.partition) ?? [];
          lines.push(decoder.decode(record.value));
          sourceLines.set(record.partition, lines);
        }
      });
    await ctx.start();
    await batchesUntil(
      ctx,
      clock,
      () =>
        textFilePartitions.flat().length >= expectedLineCount &&
        [...sourceLines.values()].flat().length >= expectedLineCount,
      "lines from both inputs",
    );
    await ctx.stop();

    for (const file of FILES) expect(sourceLines.get(file.name), file.name).toEqual(file.lines);
    expect(byJson(textFilePartitions)).toEqual(byJson(FILES.map((file) => file.lines)));
  });

  it("socketTextStream gives the same lines for the same bytes, cut anywhere", async () => {
    // One connection per file, each closed by the server after the file's bytes, sent in two
    // writes cut inside a multi-byte character or between `\r` and `\n`.
    const idle: Socket[] = [];
    let connections = 0;
    server = createServer((socket) => {
      const file = FILES[connections++];
      if (file === undefined) {
        idle.push(socket);
        return;
      }
      const bytes = encoder.encode(file.text);
      const cut = cutPoint(bytes);
      socket.setNoDelay(true);
      socket.write(bytes.subarray(0, cut), () => socket.end(bytes.subarray(cut)));
    });
    const port = await new Promise<number>((resolve) => {
      server?.listen(0, "127.0.0.1", () => {
        const address = server?.address();
        resolve(typeof address === "object" && address !== null ? address.port : -1);
      });
    });
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const lines: string[] = [];
    ctx.socketTextStream("127.0.0.1", port, { restartDelayMs: 1 }).foreachBatch((batch) => {
      lines.push(...batchRecords(batch));
    });
    await ctx.start();
    await batchesUntil(ctx, clock, () => lines.length >= expectedLineCount, "every line");
    await ctx.stop();
    for (const socket of idle) socket.destroy();
    expect(lines).toEqual(FILES.flatMap((file) => file.lines));
  });
});

/** Where to cut a file's bytes: inside its first multi-byte character, else between `\r` and `\n`, else in the middle. */
function cutPoint(bytes: Uint8Array): number {
  const multiByte = bytes.findIndex((byte) => byte >= 0xc0);
  if (multiByte !== -1) return multiByte + 1;
  const crlf = bytes.findIndex((byte, index) => byte === 0x0d && bytes[index + 1] === 0x0a);
  if (crlf !== -1) return crlf + 1;
  return Math.floor(bytes.length / 2);
}
