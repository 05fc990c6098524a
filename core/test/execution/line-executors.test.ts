// Under local[N], socketTextStream's lines cross to the executors as the source's bytes and
// become strings there: the driver decodes none of them, and the counts equal decoding every
// line on one thread (UTF-8, a byte order mark, `\r\n`, empty lines).
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJobContext, type StreamingContext } from "sluice";
import { ExecutorPool } from "sluice/advanced";
import { ManualClock } from "sluice/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ColumnarBatch } from "../../src/dstream/columnar-batch.js";
import { batchCompleted } from "../streaming/events.js";
import { counts } from "./jobs/lines.js";

const JOBS = new URL("./jobs/lines.ts", import.meta.url);

const pool = new ExecutorPool({ threads: 2 });
afterAll(async () => {
  await pool.close();
});

let server: Server | undefined;
let ctx: StreamingContext | undefined;
afterEach(async () => {
  await ctx?.stop();
  ctx = undefined;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server that sends `text` to its first connection and keeps it open. */
function serve(text: Buffer): Promise<number> {
  server = createServer((socket) => socket.write(text));
  return new Promise((resolve) => {
    server?.listen(0, "127.0.0.1", () => {
      const address = server?.address();
      resolve(typeof address === "object" && address !== null ? address.port : -1);
    });
  });
}

/** Counts decoded the way a line-oriented source decodes a line (a byte order mark kept). */
function expectedCounts(lines: readonly Buffer[]): Map<string, number> {
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const expected = new Map<string, number>();
  for (const line of lines) {
    for (const word of decoder.decode(line).split(" ")) {
      expected.set(word, (expected.get(word) ?? 0) + 1);
    }
  }
  return expected;
}

describe("socketTextStream under local[2]", () => {
  it("decodes the lines on the executors, not on the driver, with the counts of one thread", async () => {
    const words = ["alpha", "beta", "gamma", "é", "naïve", "", "\u{1F600}"];
    const lines: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: 1 + (i % 5) }, (_, j) => words[(i + j) % words.length]);
      lines.push(Buffer.from((i % 97 === 0 ? "\uFEFF" : "") + text.join(" ")));
    }
    lines.push(Buffer.alloc(0), Buffer.from([0xc3, 0x28, 0x20, 0x61])); // empty, invalid UTF-8
    const wire = Buffer.concat(
      lines.flatMap((line, i) => [line, Buffer.from(i % 2 ? "\r\n" : "\n")]),
    );
    const port = await serve(wire);

    const spy = spyOnDriverDecoding();
    try {
      const clock = new ManualClock(0);
      ctx = await createJobContext(
        { module: JOBS, exportName: "socketWordCount", args: { name: "mixed", port } },
        { batchInterval: 1000, clock, master: "local[2]", executorPool: pool },
      );
      const tasks = pool.completedTasks;
      await ctx.start();
      const total = lines.reduce((sum, line) => sum + line.length, 0);
      const counted = new Map<string, number>();
      const deadline = Date.now() + 20_000;
      let time = 0;
      let wordsSeen = 0;
      const wordsDue = [...expectedCounts(lines).values()].reduce((a, b) => a + b, 0);
      while (wordsSeen < wordsDue) {
        if (Date.now() > deadline) throw new Error(`${wordsSeen} of ${wordsDue} words in 20 s`);
        time += 1000;
        const done = batchCompleted(ctx, time);
        clock.advance(1000);
        await done;
        wordsSeen = 0;
        counted.clear();
        for (const batch of counts.get("mixed") ?? []) {
          for (const [word, count] of batch) {
            counted.set(word, (counted.get(word) ?? 0) + count);
            wordsSeen += count;
          }
        }
        // Lets the socket's data arrive before the next batch is cut.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(total).toBeGreaterThan(0);
      expect(counted).toEqual(expectedCounts(lines));
      expect(pool.completedTasks).toBeGreaterThan(tasks);
      expect(spy.decoded).toBe(0);
    } finally {
      spy.restore();
    }
  });
});

describe("textFileStream under local[2]", () => {
  it("groups lines by file on the driver and decodes them on the executors", async () => {
    const directory = await mkdtemp(join(tmpdir(), "sluice-lines-"));
    const files = { "b.txt": ["b1", "b2 é", ""], "a.txt": ["a1"], "c.skip": ["dropped"] };
    for (const [name, lines] of Object.entries(files)) {
      const staged = join(directory, `.${name}`);
      await writeFile(staged, lines.map((line) => `${line}\n`).join(""));
      await rename(staged, join(directory, name));
    }
    const spy = spyOnDriverDecoding();
    try {
      const clock = new ManualClock(0);
      ctx = await createJobContext(
        { module: JOBS, exportName: "fileLines", args: { name: "files", directory } },
        { batchInterval: 1000, clock, master: "local[2]", executorPool: pool },
      );
      await ctx.start();
      const deadline = Date.now() + 20_000;
      const seen = () => (counts.get("files") ?? []).flat();
      for (let time = 1000; seen().length < 4; time += 1000) {
        if (Date.now() > deadline) throw new Error(`${seen().length} of 4 lines in 20 s`);
        const done = batchCompleted(ctx, time);
        clock.advance(1000);
        await done;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // Files in name order, each file's lines in order; the filter's refusals dropped.
      expect(seen()).toEqual([
        ["a1", 2],
        ["b1", 2],
        ["b2 é", 4],
        ["", 0],
      ]);
      expect(spy.decoded).toBe(0);
    } finally {
      spy.restore();
      await rm(directory, { recursive: true, force: true });
    }
  });
});

/** Counts the text batches decoded on this thread (the driver) until `restore`. */
function spyOnDriverDecoding(): { readonly decoded: number; restore(): void } {
  const descriptor = Object.getOwnPropertyDescriptor(ColumnarBatch.prototype, "partitions");
  const read = descriptor?.get as (this: ColumnarBatch<unknown>) => unknown;
  const spy = {
    decoded: 0,
    restore(): void {
      if (descriptor !== undefined) {
        Object.defineProperty(ColumnarBatch.prototype, "partitions", descriptor);
      }
    },
  };
  Object.defineProperty(ColumnarBatch.prototype, "partitions", {
    configurable: true,
    get(this: ColumnarBatch<unknown>) {
      if (!this.isMaterialised && this.columns.some((part) => part.kind === "text")) {
        spy.decoded++;
      }
      return read.call(this);
    },
  });
  return spy;
}
