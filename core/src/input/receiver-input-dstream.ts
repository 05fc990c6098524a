import { z } from "zod";
import { defineSource } from "../connector/define-plugin.js";
import type { ScopeHolder } from "../dstream/stream-scope.js";
import { pluginName } from "../plugins/context-connectors.js";
import { SourceInputDStream } from "../plugins/source-input-dstream.js";
import { alreadyAttached, type Receiver } from "./receiver.js";
import { ReceiverSource } from "./receiver-source.js";
import { ReceiverSupervisor } from "./receiver-supervisor.js";

/** The source plugin behind every `receiverStream`: the config carries the receiver's source. */
const receiverSourcePlugin = defineSource({
  name: "receiver",
  version: "0.1.0",
  description: "The records a custom Receiver stores (ctx.receiverStream).",
  config: z.strictObject({ source: z.instanceof(ReceiverSource) }),
  capabilities: { replayable: false },
  create: (config) => config.source,
});

/**
 * A stream fed by a `Receiver` (Spark's `ReceiverInputDStream`), built on the connector runtime:
 * the receiver's records are a `Source`'s, so they get flow control, the write-ahead log with
 * checkpointing and acknowledgement after output like any source's. At each batch tick,
 * everything stored since the previous tick becomes the batch, as much as flow control allows
 * (the rest waits for the next). The supervisor starts, stops and restarts the receiver and
 * reports its life to listeners.
 *
 * @example
 * const stream = ctx.receiverStream(new MyReceiver());
 */
export class ReceiverInputDStream<T> extends SourceInputDStream {
  private readonly supervisor: ReceiverSupervisor<T>;
  private readonly source: ReceiverSource<T>;
  // Handing records over at a tick is not interrupted by a stop: a graceful stop drains them.
  private readonly handover = new AbortController().signal;

  constructor(context: ScopeHolder, receiver: Receiver<T>, restartDelayMs?: number) {
    // Checked before registering with the context, so a refused receiver leaves no input behind.
    if (receiver.isAttached()) throw alreadyAttached(receiver.name);
    const source = new ReceiverSource<T>(receiver.name, () => Date.now());
    const { registry } = context.scope.connectors;
    const instance = registry.createSource(pluginName(registry, receiverSourcePlugin), { source });
    super(context, instance, {});
    this.source = source;
    this.supervisor = new ReceiverSupervisor(
      receiver,
      (records) => source.store(records),
      this.inputId,
      context.scope.listenerBus,
      restartDelayMs,
    );
  }

  override get operatorName(): string {
    return `ReceiverInputDStream(${this.supervisor.name})`;
  }

  override async stop(): Promise<void> {
    await this.supervisor.stopByContext();
    await super.stop();
  }

  override hasPendingData(): boolean {
    return super.hasPendingData() || this.source.waiting > 0;
  }

  protected override async startReading(): Promise<void> {
    await this.supervisor.start();
  }

  // At the tick, what the receiver stored since the previous one joins the batch.
  protected override async beforeCut(): Promise<void> {
    if (this.flow.pauseReason() !== undefined) return;
    const result = this.source.take(this.flow.readHint());
    if (result !== undefined) await this.accept(result, this.handover);
  }
}
