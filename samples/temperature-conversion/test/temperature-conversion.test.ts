import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dropFile, readLines, temporaryFolder } from "../../../test/samples/files.js";
import { SeededRandom } from "../../../test/samples/seeded-random.js";
import { runSluice, samplePath } from "../../../test/samples/sluice-process.js";

const JOB = samplePath("temperature-conversion", "job.ts");

// The ground truth, computed here rather than imported from the job.
const fahrenheitOf = (celsius: number): number => celsius * 1.8 + 32;

let folder: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  folder = await temporaryFolder("temperature");
});
afterEach(async () => {
  await folder.remove();
});

describe("samples/temperature-conversion", () => {
  it("converts every reading of every file moved into the folder, then stops at _DONE", async () => {
    const input = join(folder.path, "in");
    const output = join(folder.path, "out");
    await mkdir(input);
    const random = new SeededRandom(7);
    const readings: { station: string; celsius: number }[] = [];
    for (let file = 0; file < 3; file++) {
      const rows: string[] = ["station,celsius"];
      for (let row = 0; row < 40; row++) {
        const station = `station-${file}-${row}`;
        const celsius = Math.round((random.next() * 90 - 40) * 10) / 10;
        readings.push({ station, celsius });
        rows.push(`${station},${celsius}`);
      }
      await dropFile(input, `readings-${file}.csv`, `${rows.join("\n")}\n`);
    }
    await dropFile(input, "_DONE", "");

    const run = await runSluice([
      "run",
      JOB,
      "--batch",
      "100ms",
      "--set",
      `job.input=${input}`,
      "--set",
      `job.output=${output}`,
    ]);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /^temperature-conversion: stopped after \d+ batches, 120 records in, \d+ out$/m,
    );
    const written = (await readLines(output, "fahrenheit")).map(
      (line) => JSON.parse(line) as { station: string; celsius: number; fahrenheit: number },
    );
    expect(written.map(({ station, celsius }) => ({ station, celsius }))).toEqual(readings);
    for (const { celsius, fahrenheit } of written) {
      expect(fahrenheit).toBeCloseTo(fahrenheitOf(celsius), 2);
    }
    // The conversions are printed too, under Spark's "Time: ... ms" headers (at most 100 a batch).
    expect(run.stdout).toMatch(/^Time: \d+ ms$/m);
    const printed = [...run.stdout.matchAll(/^(\S+): (\S+) °C = (\S+) °F$/gm)];
    expect(printed.length).toBeGreaterThanOrEqual(Math.min(100, readings.length));
    const celsiusOf = new Map(readings.map(({ station, celsius }) => [station, celsius]));
    for (const [, station, celsius, fahrenheit] of printed) {
      expect(Number(celsius)).toBe(celsiusOf.get(station ?? ""));
      expect(Number(fahrenheit)).toBeCloseTo(fahrenheitOf(Number(celsius)), 2);
    }
  });

  it("converts the bundled readings with no settings at all", async () => {
    const csv = await readFile(
      samplePath("temperature-conversion", "data", "readings.csv"),
      "utf8",
    );
    const rows = csv
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => line.split(","));

    const run = await runSluice(["run", JOB, "--batch", "100ms"]);

    expect(run.code, run.stderr).toBe(0);
    expect(rows.length).toBeGreaterThan(0);
    for (const [station, celsius] of rows) {
      const expected = Math.round(fahrenheitOf(Number(celsius)) * 100) / 100;
      expect(run.stdout).toContain(`${station}: ${Number(celsius)} °C = ${expected} °F`);
    }
  });

  it("stops with exit code 1 naming the file and byte of a reading that is not a number", async () => {
    const input = join(folder.path, "in");
    await mkdir(input);
    await dropFile(input, "bad.csv", "station,celsius\nOslo,-3\nBergen,warm\n");
    await dropFile(input, "_DONE", "");

    const run = await runSluice(["run", JOB, "--batch", "100ms", "--set", `job.input=${input}`]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('celsius "warm", which is not a number');
    expect(run.stderr).toContain("byte 36 of bad.csv");
  });

  it("refuses a misspelt setting before reading anything, naming the field and the one meant", async () => {
    const run = await runSluice(["run", JOB, "--set", `job.inptu=${folder.path}`]);

    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain('inptu: Unknown field. Hint: Did you mean "input"?');
  });
});
