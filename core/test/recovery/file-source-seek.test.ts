import { mkdir, mkdtemp, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SourceRecord } from "sluice";
import { type ConnectorRegistry, createConnectorRegistry } from "sluice/advanced";
import type { Source } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const decoder = new TextDecoder();
let root: string;
let directory: string;
let registry: ConnectorRegistry;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-file-seek-"));
  directory = join(root, "in");
  await mkdir(directory);
  registry = createConnectorRegistry({ logger: new LogCapture().logger });
});

afterEach(async () => {
  await registry.dispose();
  await rm(root, { recursive: true, force: true });
});

async function moveIn(name: string, text: string): Promise<void> {
  const hidden = join(root, `.${name}`);
  await writeFile(hidden, text);
  await rename(hidden, join(directory, name));
}

async function readAll(source: Source, count: number): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  const signal = AbortSignal.timeout(5_000);
  while (records.length < count) {
    if (signal.aborted) throw new Error(`only ${records.length} of ${count} records arrived`);
    const result = await source.read(signal);
    records.push(...result.records);
    await result.ack();
  }
  return records;
}

const lines = (records: SourceRecord[]) =>
  records.map((record) => `${record.partition}:${decoder.decode(record.value)}@${record.offset}`);

describe("file source seek", () => {
  it("resumes each file after its checkpointed offset and reads files the checkpoint does not name", async () => {
    await moveIn("a.txt", "a1\na2\na3\n");
    await moveIn("b.txt", "b1\n");
    const source = registry.createSource("file", {
      directory,
      startAt: "earliest",
      pollIntervalMs: 20,
    }).connector;
    // a.txt was used up to its second line (byte 6), b.txt not at all.
    await source.seek?.(new Map([["a.txt", "6"]]), { firstRunStartedAtMs: 0 });
    await source.connect(AbortSignal.timeout(5_000));
    expect(lines(await readAll(source, 2)).sort()).toEqual(["a.txt:a3@9", "b.txt:b1@3"]);
  });

  it("with startAt latest, still skips the files the first run skipped", async () => {
    await moveIn("old.txt", "old\n");
    // The first run started just after old.txt arrived; new.txt arrives after that.
    const firstRunStartedAtMs = (await stat(join(directory, "old.txt"))).ctimeMs + 1;
    while (Date.now() <= firstRunStartedAtMs) await new Promise((resolve) => setImmediate(resolve));
    const source = registry.createSource("file", { directory, pollIntervalMs: 20 }).connector;
    await source.seek?.(new Map(), { firstRunStartedAtMs });
    await source.connect(AbortSignal.timeout(5_000));
    const checkedLater = registry.createSource("file", { directory, pollIntervalMs: 20 }).connector;
    await checkedLater.seek?.(new Map(), { firstRunStartedAtMs: 0 });
    await checkedLater.connect(AbortSignal.timeout(5_000));
    // With a first run that started before old.txt arrived, the file is new and read.
    expect(lines(await readAll(checkedLater, 1))).toEqual(["old.txt:old@4"]);
    await moveIn("new.txt", "new\n");
    expect(lines(await readAll(source, 1))).toEqual(["new.txt:new@4"]);
  });

  it("refuses a seek after connect", async () => {
    const source = registry.createSource("file", { directory }).connector;
    await source.connect(AbortSignal.timeout(5_000));
    expect(() => source.seek?.(new Map(), { firstRunStartedAtMs: 0 })).toThrow(
      expect.objectContaining({ code: "SLUICE_ILLEGAL_STATE" }),
    );
  });
});
