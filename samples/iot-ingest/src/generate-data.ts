// Generates the bundled data set in samples/iot-ingest/data: ten minutes of temperature readings
// from eight sensors, one every 2 s each, in five files of two minutes, plus the `_DONE` marker.
// Deterministic (a seeded generator), so running it again writes the same bytes:
//   node --import tsx samples/iot-ingest/src/generate-data.ts
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** When the bundled readings start: 2025-01-15 08:00:00 UTC. */
export const DATA_START = Date.UTC(2025, 0, 15, 8, 0, 0);
/** Every sensor reports once per this many milliseconds. */
export const READING_EVERY_MS = 2_000;
/** The sensors, with the temperature each hovers around and how far it swings. */
export const SENSORS = [
  { id: "cold-store-1", base: -18.5, swing: 0.8 },
  { id: "cold-store-2", base: -19.2, swing: 1.1 },
  { id: "boiler-room", base: 61, swing: 3 },
  { id: "server-room", base: 22.5, swing: 0.6 },
  { id: "office-1", base: 21, swing: 0.7 },
  { id: "office-2", base: 20.4, swing: 0.9 },
  { id: "loading-dock", base: 7.5, swing: 2.2 },
  { id: "roof", base: 3.1, swing: 1.8 },
] as const;

const MINUTE = 60_000;
const FILES = 5;
const FILE_SPAN_MS = 2 * MINUTE;

/** mulberry32: a small seeded generator of numbers in [0, 1). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Extra degrees from the events in the data: the cold store's door left open, the boiler overheating. */
function eventOffset(sensor: string, elapsedMs: number): number {
  if (sensor === "cold-store-2" && elapsedMs >= 3 * MINUTE && elapsedMs < 4 * MINUTE) {
    return 6 * Math.min(1, (elapsedMs - 3 * MINUTE) / 20_000); // the door is open for a minute
  }
  if (sensor === "boiler-room" && elapsedMs >= 6 * MINUTE && elapsedMs < 7.5 * MINUTE) {
    const ramp = (elapsedMs - 6 * MINUTE) / (0.75 * MINUTE);
    return 25 * (ramp <= 1 ? ramp : 2 - ramp); // up for 45 s, down for 45 s
  }
  return 0;
}

/** Readings a sensor sent that the job must reject: a missing value and a device error text. */
const GLITCHES = new Map<string, unknown>([
  [`roof@${DATA_START + 4 * MINUTE + 36_000}`, null],
  [`office-2@${DATA_START + 8 * MINUTE + 12_000}`, "ERR"],
]);

/**
 * The data set: each file's name and JSON lines, in time order (sensors in a fixed order within
 * a timestamp).
 *
 * @example
 * const files = generateReadings(); // [{ name: "readings-0800.jsonl", lines: [...] }, ...]
 */
export function generateReadings(): { name: string; lines: string[] }[] {
  const random = seeded(20250115);
  const phases = SENSORS.map(() => random() * 2 * Math.PI);
  const files: { name: string; lines: string[] }[] = [];
  for (let file = 0; file < FILES; file++) {
    const from = DATA_START + file * FILE_SPAN_MS;
    const minute = new Date(from).toISOString().slice(11, 16).replace(":", "");
    const lines: string[] = [];
    for (let ts = from; ts < from + FILE_SPAN_MS; ts += READING_EVERY_MS) {
      const elapsed = ts - DATA_START;
      SENSORS.forEach((sensor, index) => {
        const wave = Math.sin((2 * Math.PI * elapsed) / (5 * MINUTE) + (phases[index] ?? 0));
        const noise = (random() - 0.5) * 0.6;
        const celsius = sensor.base + sensor.swing * wave + noise + eventOffset(sensor.id, elapsed);
        const glitch = GLITCHES.get(`${sensor.id}@${ts}`);
        const temperature = glitch === undefined ? Math.round(celsius * 100) / 100 : glitch;
        lines.push(JSON.stringify({ sensor: sensor.id, ts, temperature }));
      });
    }
    files.push({ name: `readings-${minute}.jsonl`, lines });
  }
  return files;
}

async function main(): Promise<void> {
  const directory = fileURLToPath(new URL("../data", import.meta.url));
  await mkdir(directory, { recursive: true });
  for (const { name, lines } of generateReadings()) {
    await writeFile(join(directory, name), `${lines.join("\n")}\n`);
  }
  await writeFile(join(directory, "_DONE"), "");
  console.log(`wrote the readings to ${directory}`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
