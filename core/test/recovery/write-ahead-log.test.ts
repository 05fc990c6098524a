import { mkdtemp, readdir, rm, stat, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FaultInjectingFileSystem, type FileStep } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WriteAheadLog } from "../../src/recovery/write-ahead-log.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-wal-"));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const texts = (entries: { payload: Uint8Array }[]) =>
  entries.map((entry) => decoder.decode(entry.payload));

describe("WriteAheadLog", () => {
  it("gives back every entry after a restart, numbered in append order", async () => {
    const wal = new WriteAheadLog(root);
    expect((await wal.open()).entries).toEqual([]);
    expect(await wal.append(encoder.encode("one"))).toBe(1);
    expect(await wal.append(encoder.encode("two"))).toBe(2);
    await wal.close();

    const reopened = new WriteAheadLog(root);
    const { entries, damaged } = await reopened.open();
    expect(entries.map((entry) => entry.sequence)).toEqual([1, 2]);
    expect(texts(entries)).toEqual(["one", "two"]);
    expect(damaged).toEqual([]);
    // Appends continue the numbering, in a new segment (never after a possibly torn end).
    expect(await reopened.append(encoder.encode("three"))).toBe(3);
    await reopened.close();
    expect((await readdir(root)).sort()).toEqual([
      "segment-0000000000000001.wal",
      "segment-0000000000000003.wal",
    ]);
  });

  it("ignores an entry torn by a crash and keeps the ones before it", async () => {
    const wal = new WriteAheadLog(root);
    await wal.open();
    await wal.append(encoder.encode("kept"));
    await wal.append(encoder.encode("torn apart"));
    await wal.close();
    const segment = join(root, "segment-0000000000000001.wal");
    await truncate(segment, (await stat(segment)).size - 4);

    const { entries, damaged } = await new WriteAheadLog(root).open();
    expect(texts(entries)).toEqual(["kept"]);
    expect(damaged).toEqual([segment]);
  });

  it("starts new segments past segmentBytes and deletes the used ones on truncation", async () => {
    const wal = new WriteAheadLog(root, { segmentBytes: 1024 });
    await wal.open();
    const payload = new Uint8Array(1000); // one entry fills a 1 KiB segment
    for (let i = 0; i < 4; i++) await wal.append(payload);
    expect(await readdir(root)).toHaveLength(4);
    await wal.truncateThrough(2);
    expect((await readdir(root)).sort()).toEqual([
      "segment-0000000000000003.wal",
      "segment-0000000000000004.wal",
    ]);
    await wal.truncateThrough(4);
    expect(await readdir(root)).toEqual([]);
    expect(await wal.append(encoder.encode("after"))).toBe(5);
    await wal.close();
    expect(texts((await new WriteAheadLog(root).open()).entries)).toEqual(["after"]);
  });

  it("reports a full disk as SLUICE_DISK_FULL, loses nothing written before, and recovers when space returns", async () => {
    const fs = new FaultInjectingFileSystem();
    const wal = new WriteAheadLog(root, { fs });
    await wal.open();
    await wal.append(encoder.encode("before"));
    fs.fillDisk({ freeBytes: 10 });
    await expect(wal.append(new Uint8Array(100))).rejects.toMatchObject({
      code: "SLUICE_DISK_FULL",
      message: expect.stringMatching(/disk is full \(ENOSPC\).*not acknowledged/),
    });
    expect(fs.failedWrites).toBe(1);
    fs.freeDisk();
    const next = await wal.append(encoder.encode("after"));
    await wal.close();
    const { entries, damaged } = await new WriteAheadLog(root).open();
    expect(texts(entries)).toEqual(["before", "after"]);
    expect(entries[1]?.sequence).toBe(next);
    expect(damaged).toHaveLength(1); // the torn write stays ignored
  });

  it("holds writers back at maxBytes until a truncation frees room", async () => {
    const wal = new WriteAheadLog(root, { maxBytes: 3000, segmentBytes: 1024 });
    await wal.open();
    await wal.append(new Uint8Array(1000));
    await wal.append(new Uint8Array(1000));
    expect(wal.hasRoomFor(1000)).toBe(false);
    let roomFound = false;
    const waiting = wal.waitForRoom(1000, new AbortController().signal).then(() => {
      roomFound = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(roomFound).toBe(false);
    await wal.truncateThrough(1);
    await waiting;
    expect(roomFound).toBe(true);
    await expect(wal.waitForRoom(5000, new AbortController().signal)).rejects.toMatchObject({
      code: "SLUICE_INVALID_ARGUMENT",
      message: expect.stringContaining("can never fit"),
    });
    await wal.close();
  });

  it("stops waiting for room when its signal aborts", async () => {
    const wal = new WriteAheadLog(root, { maxBytes: 1024 });
    await wal.open();
    await wal.append(new Uint8Array(900));
    const controller = new AbortController();
    const waiting = wal.waitForRoom(500, controller.signal);
    controller.abort(new Error("stopping"));
    await expect(waiting).rejects.toThrow("stopping");
    await wal.close();
  });

  it("never numbers an entry at or below the checkpoint's last one, even once the log is empty", async () => {
    const wal = new WriteAheadLog(root);
    await wal.open();
    for (const text of ["one", "two", "three"]) await wal.append(encoder.encode(text));
    await wal.truncateThrough(3);
    await wal.close();
    expect(await readdir(root)).toEqual([]);

    // The folder remembers nothing; the checkpoint does.
    const next = new WriteAheadLog(root);
    expect((await next.open({ after: 3 })).entries).toEqual([]);
    expect(await next.append(encoder.encode("four"))).toBe(4);
    await next.close();
    const reopened = new WriteAheadLog(root);
    expect((await reopened.open({ after: 3 })).entries.map((entry) => entry.sequence)).toEqual([4]);
    await reopened.close();
  });

  it("refuses an `after` that is not a sequence number", async () => {
    await expect(new WriteAheadLog(root).open({ after: -1 })).rejects.toMatchObject({
      code: "SLUICE_INVALID_ARGUMENT",
    });
  });

  describe("a crash inside each step of a segment roll and its first append", () => {
    /** The steps the log takes on its files for one append into a new segment, in order. */
    async function stepsOfARoll(): Promise<{ step: FileStep; path: string }[]> {
      const folder = join(root, "recorded");
      const fs = new FaultInjectingFileSystem();
      const wal = new WriteAheadLog(folder, { fs });
      await wal.open();
      const before = fs.steps.length;
      await wal.append(encoder.encode("first"));
      const steps = fs.steps.slice(before).map(({ step, path }) => ({ step, path }));
      await wal.close();
      return steps;
    }

    it("records the roll as create, header, folder sync, entry, flush", async () => {
      expect((await stepsOfARoll()).map(({ step }) => step)).toEqual([
        "open",
        "write",
        "syncDirectory",
        "write",
        "sync",
      ]);
    });

    it("reopens after a crash at every step, keeps what was flushed, and appends again", async () => {
      const steps = await stepsOfARoll();
      for (const [index, { step }] of steps.entries()) {
        const folder = join(root, `crash-${index}`);
        // A log with one flushed entry, and a second run that rolls a new segment and dies.
        const first = new WriteAheadLog(folder);
        await first.open();
        await first.append(encoder.encode("kept"));
        await first.close();
        const fs = new FaultInjectingFileSystem();
        const occurrence = steps.slice(0, index + 1).filter((taken) => taken.step === step).length;
        fs.crashAfter({ step, path: folder, occurrence });
        const dying = new WriteAheadLog(folder, { fs });
        await dying.open();
        void dying.append(encoder.encode("in flight"));
        await fs.whenCrashed();

        const restarted = new WriteAheadLog(folder);
        const { entries } = await restarted.open({ after: 0 });
        // The entry in flight is there only if its bytes were all written (never acknowledged
        // before the flush, so either way nothing acknowledged is lost).
        const found = texts(entries);
        expect(found[0], `crash after ${step} #${occurrence}`).toBe("kept");
        expect(found.slice(1).every((text) => text === "in flight")).toBe(true);
        const sequence = await restarted.append(encoder.encode("after the crash"));
        expect(sequence).toBeGreaterThan(entries.at(-1)?.sequence ?? 0);
        await restarted.close();
        const again = await new WriteAheadLog(folder).open();
        expect(texts(again.entries).at(-1)).toBe("after the crash");
      }
    });
  });
});
