// Drops a small log file into a folder every few seconds, for watching the error-log-counts job
// at work: each file is written under a hidden name and renamed in, as the job requires.
//   node --import tsx samples/error-log-counts/drop-logs.ts /tmp/logs [--every 2000]
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";

const LEVELS = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"] as const;
const MESSAGES = [
  "request served",
  "cache miss",
  "retrying upstream call",
  "connection reset by peer",
  "slow query",
];

/** Text of one log file: `lines` lines at random levels, stamped with `now`. */
function logFile(now: Date, lines: number): string {
  let text = "";
  for (let i = 0; i < lines; i++) {
    const level = LEVELS[Math.floor(Math.random() * LEVELS.length)];
    const message = MESSAGES[Math.floor(Math.random() * MESSAGES.length)];
    text += `${now.toISOString()} ${level} ${message}\n`;
  }
  return text;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { every: { type: "string", default: "2000" } },
  });
  const folder = positionals[0];
  const everyMs = Number(values.every);
  if (folder === undefined || !Number.isFinite(everyMs) || everyMs < 10) {
    console.error("usage: drop-logs.ts <folder> [--every <milliseconds, at least 10>]");
    process.exitCode = 2;
    return;
  }
  await mkdir(folder, { recursive: true });
  let sequence = 0;
  const drop = async (): Promise<void> => {
    const name = `app-${Date.now()}-${sequence++}.log`;
    const text = logFile(new Date(), 10 + Math.floor(Math.random() * 30));
    await writeFile(join(folder, `.${name}`), text);
    await rename(join(folder, `.${name}`), join(folder, name));
    const errors = text.split("\n").filter((line) => line.includes(" ERROR ")).length;
    console.log(`${name}: ${errors} ERROR lines`);
  };
  setInterval(() => void drop(), everyMs);
  await drop();
}

await main();
