/**
 * The plain Node loop contender of `npm run bench -- --peers`: `split` and a `Map`, one thread,
 * no framework. Same arguments and output as the Rust limit (bench/peers/rust/src/main.rs):
 *   node-loop.ts batches <total> <window_batches> <file>...
 *   node-loop.ts socket <host> <port> <expected_words>
 */
import { connect } from "node:net";
import { cpuMsSince, readLines } from "./data.js";
import { type Digest, digestOf } from "./digest.js";

function countLines(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) {
    for (const word of line.split(" ")) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

function runBatches(total: number, window: number, files: readonly string[]): void {
  const inputs = files.map(readLines);
  const windowCounts = new Map<string, number>();
  const inWindow: Map<string, number>[] = [];
  for (let i = 0; i < total; i++) {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const counts = countLines(inputs[i % inputs.length] as string[]);
    let digest: Digest;
    if (window === 0) {
      digest = digestOf(counts);
    } else {
      for (const [word, count] of counts)
        windowCounts.set(word, (windowCounts.get(word) ?? 0) + count);
      inWindow.push(counts);
      if (inWindow.length > window) {
        for (const [word, count] of inWindow.shift() as Map<string, number>) {
          const left = (windowCounts.get(word) as number) - count;
          if (left === 0) windowCounts.delete(word);
          else windowCounts.set(word, left);
        }
      }
      digest = digestOf(windowCounts);
    }
    const ms = performance.now() - started;
    const cpuMs = cpuMsSince(cpuBefore);
    process.stdout.write(`${JSON.stringify({ batch: i, ms, cpuMs, digest: digest.text() })}\n`);
  }
}

function runSocket(host: string, port: number, expected: number): void {
  const counts = new Map<string, number>();
  let rest = "";
  let seen = 0;
  const socket = connect({ host, port });
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() as string;
    for (const line of lines) {
      for (const word of line.split(" ")) {
        counts.set(word, (counts.get(word) ?? 0) + 1);
        seen++;
      }
    }
    if (seen >= expected) {
      const endMs = performance.timeOrigin + performance.now();
      process.stdout.write(`${JSON.stringify({ endMs, digest: digestOf(counts).text(false) })}\n`);
      socket.destroy();
    }
  });
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "batches") runBatches(Number(args[0]), Number(args[1]), args.slice(2));
else if (mode === "socket") runSocket(args[0] as string, Number(args[1]), Number(args[2]));
else {
  process.stderr.write(
    "usage: node-loop.ts batches <total> <window> <file>... | socket <host> <port> <expected>\n",
  );
  process.exit(2);
}
