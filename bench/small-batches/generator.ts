/**
 * The small-batch benchmark's load: a TCP server on 127.0.0.1 that sends 100-byte lines (10
 * words of 9 letters, Zipf(1.2) over a 100k-word vocabulary, deterministic) to its first client
 * at a steady rate, paced in 1 ms slices (each slice writes the lines due by then). A socket
 * that pushes back (`write` returns false) is waited for, and the lines due meanwhile follow
 * once it drains, so the rate offered is what the job reads at most. Its own process, so it
 * takes no time from the job's thread. Prints `{"port"}` when listening; on SIGTERM (or when
 * the client leaves) prints `{"sent", "ms", "maxBehind", "timeline"}` (lines sent so far, every
 * 100 ms, against the wall clock) and exits.
 *   generator.ts <lines_per_second>
 */
import { createServer, type Socket } from "node:net";

const LINE_BYTES = 100;
const WORDS_PER_LINE = 10;
const WORD_LETTERS = 9;
const VOCABULARY = 100_000;
const CYCLE_LINES = 50_000;

const rate = Number(process.argv[2] ?? 100_000);

/** xorshift32: the same lines on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4_294_967_296;
  };
}

/** CYCLE_LINES lines of exactly LINE_BYTES bytes (newline included), back to back. */
function makeLines(): Buffer {
  const next = random(12_345);
  const words: Buffer[] = [];
  for (let i = 0; i < VOCABULARY; i++) {
    let word = "";
    for (let j = 0; j < WORD_LETTERS; j++)
      word += String.fromCharCode(97 + Math.floor(next() * 26));
    words.push(Buffer.from(word));
  }
  // Zipf(1.2) by inverting the cumulative weights.
  const cumulative = new Float64Array(VOCABULARY);
  let total = 0;
  for (let rank = 0; rank < VOCABULARY; rank++) {
    total += 1 / (rank + 1) ** 1.2;
    cumulative[rank] = total;
  }
  const pick = (): Buffer => {
    const target = next() * total;
    let low = 0;
    let high = VOCABULARY - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cumulative[middle] as number) < target) low = middle + 1;
      else high = middle;
    }
    return words[low] as Buffer;
  };
  const out = Buffer.alloc(CYCLE_LINES * LINE_BYTES);
  let at = 0;
  for (let line = 0; line < CYCLE_LINES; line++) {
    for (let word = 0; word < WORDS_PER_LINE; word++) {
      pick().copy(out, at);
      at += WORD_LETTERS;
      out[at++] = word === WORDS_PER_LINE - 1 ? 0x0a : 0x20;
    }
  }
  return out;
}

const lines = makeLines();
let client: Socket | undefined;
let startMs = 0;
let sent = 0;
let maxBehind = 0;
let waiting = false;
let timer: NodeJS.Timeout | undefined;
/** [wall clock ms, lines sent by then], every 100 ms. */
const timeline: [number, number][] = [];
let nextSample = 0;

/** Writes the lines due by now (as far as the socket takes them). */
function tick(): void {
  const socket = client;
  if (socket === undefined || waiting) return;
  const due = Math.floor(((performance.now() - startMs) * rate) / 1000);
  let count = due - sent;
  while (count > 0) {
    const first = sent % CYCLE_LINES;
    const take = Math.min(count, CYCLE_LINES - first);
    const chunk = lines.subarray(first * LINE_BYTES, (first + take) * LINE_BYTES);
    sent += take;
    count -= take;
    if (!socket.write(chunk)) {
      waiting = true;
      socket.once("drain", () => {
        waiting = false;
      });
      break;
    }
  }
  maxBehind = Math.max(maxBehind, due - sent);
  const now = performance.now();
  if (now >= nextSample) {
    timeline.push([performance.timeOrigin + now, sent]);
    nextSample = now + 100;
  }
}

function finish(): void {
  if (timer !== undefined) clearInterval(timer);
  const ms = client === undefined ? 0 : performance.now() - startMs;
  process.stdout.write(`${JSON.stringify({ sent, ms, maxBehind, timeline })}\n`);
  client?.destroy();
  process.exit(0);
}

const server = createServer((socket) => {
  if (client !== undefined) {
    socket.destroy();
    return;
  }
  client = socket;
  socket.setNoDelay(true);
  socket.on("error", () => {});
  socket.on("close", finish);
  startMs = performance.now();
  timer = setInterval(tick, 1);
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.on("SIGTERM", finish);
