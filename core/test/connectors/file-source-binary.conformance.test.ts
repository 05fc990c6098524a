// The source kit over the `file` source in `binary` format. The kit's values differ in length,
// so each is written as one fixed-length record (zero-padded) and read back without its padding
// by a thin wrapper: the cutting, offsets, seek, restart and redelivery are the file source's.
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileSource, type SourceRecord } from "sluice";
import {
  defineSource,
  type ReadOptions,
  type ReadResult,
  type SeekOptions,
  type Source,
} from "sluice/connector";
import { describeSourceConformance } from "sluice/testing/conformance";
import { fileSourceConfig } from "../../src/connectors/file/file-source-config.js";

const RECORD_LENGTH = 64;

/** The file source, each record's value without its trailing zero padding. */
class Unpadded implements Source {
  constructor(private readonly inner: Source) {}

  connect(signal: AbortSignal): Promise<void> {
    return this.inner.connect(signal);
  }

  async read(signal: AbortSignal, options?: ReadOptions): Promise<ReadResult> {
    const result = await this.inner.read(signal, options);
    // Each record keeps its own length: a wrong cut shows as a wrong value.
    const records = result.records.map(
      (record): SourceRecord => ({ ...record, value: unpadded(record.value) }),
    );
    return { records, ack: (error?: unknown) => result.ack(error) };
  }

  pause(): void {
    this.inner.pause();
  }

  resume(): void {
    this.inner.resume();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  seek(offsets: ReadonlyMap<string, string>, options: SeekOptions): void | Promise<void> {
    return this.inner.seek?.(offsets, options);
  }
}

function unpadded(value: Uint8Array): Uint8Array {
  if (value.length !== RECORD_LENGTH) throw new Error(`a record of ${value.length} bytes`);
  let end = value.length;
  while (end > 0 && value[end - 1] === 0) end--;
  return value.subarray(0, end);
}

const binaryFileSource = defineSource({
  name: "file-binary-unpadded",
  version: "0.0.0",
  description: "the file source in binary format, zero padding removed",
  config: fileSourceConfig,
  capabilities: { replayable: true },
  create: (config, context) => new Unpadded(fileSource.create(config, context)),
});

describeSourceConformance(
  "file (binary format)",
  async () => {
    const directory = await mkdtemp(join(tmpdir(), "sluice-file-binary-source-"));
    let files = 0;
    return {
      plugin: binaryFileSource,
      config: {
        directory,
        format: "binary",
        recordLength: RECORD_LENGTH,
        pollIntervalMs: 50,
        endMarker: "_DONE",
      },
      // One file per call, each value one zero-padded record, moved in when complete.
      async produce(values) {
        const name = `input-${String(files++).padStart(4, "0")}.bin`;
        const bytes = new Uint8Array(values.length * RECORD_LENGTH);
        values.forEach((value, index) => {
          if (value.length >= RECORD_LENGTH) throw new Error("a value longer than a record");
          bytes.set(value, index * RECORD_LENGTH);
        });
        const hidden = join(directory, `.${name}.tmp`);
        await writeFile(hidden, bytes);
        await rename(hidden, join(directory, name));
      },
      endInput: () => writeFile(join(directory, "_DONE"), ""),
      cleanup: () => rm(directory, { recursive: true, force: true }),
    };
  },
  {
    invalidConfig: {
      config: { directory: "", format: "binary", recordLength: 0 },
      paths: ["directory", "recordLength"],
    },
    notApplicable: {
      reconnect:
        "a folder has no connection to drop; a folder that goes missing is retried like one (file-source.test.ts)",
      ackAfterOutput:
        "a folder keeps no acknowledgement: the file source's position lives in Sluice's checkpoint, checked by the restart and seek cases",
    },
  },
);
