import { secret } from "sluice";
import {
  defineSink,
  defineSource,
  type ReadResult,
  type Sink,
  type Source,
} from "sluice/connector";
import { z } from "zod";

/** What the fake connectors did, in order, across one test. */
export type Journal = string[];

/** A source that does nothing but record its lifecycle; `failClose` makes close() throw. */
export class FakeSource implements Source {
  closed = false;
  constructor(
    readonly label: string,
    readonly journal: Journal,
    readonly failClose = false,
  ) {}
  async connect(): Promise<void> {}
  async read(): Promise<ReadResult> {
    return { records: [], ack: () => undefined };
  }
  pause(): void {}
  resume(): void {}
  async close(): Promise<void> {
    this.journal.push(`close ${this.label}`);
    if (this.failClose) throw new Error(`${this.label} refused to close`);
    this.closed = true;
  }
}

/** A sink that records its lifecycle. */
export class FakeSink implements Sink {
  closed = false;
  constructor(
    readonly label: string,
    readonly journal: Journal,
  ) {}
  async connect(): Promise<void> {}
  async writeBatch(): Promise<void> {}
  async close(): Promise<void> {
    this.journal.push(`close ${this.label}`);
    this.closed = true;
  }
}

/** A source plugin with a secret in its config; `create` builds a FakeSource. */
export function fakeSourcePlugin(journal: Journal, name = "fake") {
  return defineSource({
    name,
    version: "1.2.3",
    config: z.strictObject({
      label: z.string().min(1),
      password: secret(z.string()).optional(),
      failClose: z.boolean().default(false),
      retries: z.int().min(0).default(3),
    }),
    capabilities: { replayable: false },
    create: (config) => new FakeSource(config.label, journal, config.failClose),
  });
}

/** A sink plugin; `create` builds a FakeSink. */
export function fakeSinkPlugin(journal: Journal, name = "fake-sink") {
  return defineSink({
    name,
    version: "1.0.0",
    config: z.strictObject({ label: z.string() }),
    capabilities: { idempotent: true },
    create: (config) => new FakeSink(config.label, journal),
  });
}
