// Publishes the bundled readings to an MQTT broker as the sensors would: each reading to
// `sensors/<sensor>/readings` at QoS 1, paced by the readings' own timestamps (sped up by --speed).
//   node --import tsx samples/iot-ingest/src/publish-readings.ts [--url mqtt://127.0.0.1:1883] [--speed 10]
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connectAsync } from "mqtt";
import { BUNDLED_DATA } from "./job-settings.js";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: "mqtt://127.0.0.1:1883" },
      speed: { type: "string", default: "10" },
      prefix: { type: "string", default: "sensors" },
    },
  });
  const speed = Number(values.speed);
  if (!Number.isFinite(speed) || speed <= 0) {
    console.error("--speed must be a positive number (10: ten minutes of readings in one)");
    process.exitCode = 2;
    return;
  }
  const lines: string[] = [];
  for (const name of (await readdir(BUNDLED_DATA)).filter((n) => n.endsWith(".jsonl")).sort()) {
    const text = await readFile(join(BUNDLED_DATA, name), "utf8");
    lines.push(...text.split("\n").filter((line) => line.trim() !== ""));
  }
  const client = await connectAsync(values.url, { protocolVersion: 5, reconnectPeriod: 0 });
  const started = Date.now();
  let firstTs: number | undefined;
  let published = 0;
  for (const line of lines) {
    const { sensor, ts } = JSON.parse(line) as { sensor: string; ts: number };
    firstTs ??= ts;
    // Wait until this reading is due at the chosen speed.
    const due = started + (ts - firstTs) / speed;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    await client.publishAsync(`${values.prefix}/${sensor}/readings`, line, { qos: 1 });
    if (++published % 400 === 0) console.log(`${published} readings published`);
  }
  console.log(`${published} readings published to ${values.url}`);
  await client.endAsync();
}

await main();
