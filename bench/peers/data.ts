import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { keyIds, Rng } from "../data.js";

/**
 * The peers' input: lines of 10 words drawn Zipf(1.2) from a 100,000-word vocabulary of 3 to 10
 * lowercase letters, written once as text files that every contender reads (the same bytes for
 * Spark, Rust, the Node loop and Sluice). Deterministic: a file's name says what it holds.
 */
const DIR = fileURLToPath(new URL("./target/data/", import.meta.url));
const VOCABULARY = 100_000;
export const WORDS_PER_LINE = 10;

let dictionary: string[] | undefined;

function vocabulary(): string[] {
  if (dictionary !== undefined) return dictionary;
  const rng = new Rng(7);
  dictionary = Array.from({ length: VOCABULARY }, () => {
    let word = "";
    const length = 3 + (rng.next() % 8);
    for (let i = 0; i < length; i++) word += String.fromCharCode(97 + (rng.next() % 26));
    return word;
  });
  return dictionary;
}

/** The path of file `index` of `lines` lines, written first if missing. */
export function batchFile(lines: number, index: number): string {
  mkdirSync(DIR, { recursive: true });
  const path = join(DIR, `lines-${lines}-${index}.txt`);
  if (existsSync(path)) return path;
  const words = vocabulary();
  const ids = keyIds(lines * WORDS_PER_LINE, VOCABULARY, "zipf1.2", 1000 + index * 7919 + lines);
  const out: string[] = new Array(lines);
  for (let line = 0, next = 0; line < lines; line++) {
    const parts: string[] = new Array(WORDS_PER_LINE);
    for (let w = 0; w < WORDS_PER_LINE; w++) parts[w] = words[ids[next++] as number] as string;
    out[line] = parts.join(" ");
  }
  // Written under a temporary name first: a run stopped halfway leaves no short file behind.
  writeFileSync(`${path}.partial`, `${out.join("\n")}\n`);
  renameSync(`${path}.partial`, path);
  return path;
}

/** Reads a batch file into its lines (untimed: every contender gets its batches in memory). */
export function readLines(path: string): string[] {
  const lines = readFileSync(path, "utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Bytes a socket or file source hands over per record: 64 KiB, as a socket's reads. */
export const CHUNK_BYTES = 64 * 1024;

/**
 * Reads a batch file into the byte records a socket or file source would deliver: chunks of
 * about `chunkBytes`, each cut after a line's `\n` (untimed, as `readLines`).
 */
export function readChunks(path: string, chunkBytes = CHUNK_BYTES): Uint8Array[] {
  const bytes = new Uint8Array(readFileSync(path));
  const chunks: Uint8Array[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(bytes.length, start + chunkBytes);
    if (end < bytes.length) {
      // A line longer than a chunk is kept whole: a record never ends inside a word.
      const before = bytes.lastIndexOf(0x0a, end - 1);
      const after = bytes.indexOf(0x0a, end);
      end = before >= start ? before + 1 : after === -1 ? bytes.length : after + 1;
    }
    chunks.push(bytes.subarray(start, end));
    start = end;
  }
  return chunks;
}

/**
 * CPU time the whole process (every thread, user and system) spent since `before` (a
 * `process.cpuUsage()`), in ms: beside a batch's wall time it says how many cores it kept busy.
 */
export function cpuMsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}
