import { SluiceError } from "../errors/sluice-error.js";
import type { ReceiverInfo } from "../scheduler/listener.js";
import type { ListenerBus } from "../scheduler/listener-bus.js";
import type { Receiver, ReceiverHost } from "./receiver.js";

type ReceiverState = "initialized" | "started" | "stopping" | "stopped";

/** The default wait before a restarted receiver starts again (Spark's 2 s). */
export const DEFAULT_RESTART_DELAY_MS = 2000;

/**
 * Runs one receiver (Spark's `ReceiverSupervisor`): starts and stops it, hands what it stores to
 * the input, reports its life to listeners, and carries out restarts (on real time: a
 * receiver's retries are about the outside world, not batch time).
 *
 * @example
 * const supervisor = new ReceiverSupervisor(receiver, (records) => source.store(records), 0, bus);
 * await supervisor.start();
 */
export class ReceiverSupervisor<T> implements ReceiverHost<T> {
  private state: ReceiverState = "initialized";
  private stoppedByContext = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private lastMessage = "";
  private lastError: unknown;

  constructor(
    private readonly receiver: Receiver<T>,
    private readonly keep: (records: ReadonlyArray<T>) => void,
    private readonly streamId: number,
    private readonly bus: ListenerBus,
    private readonly restartDelayMs = DEFAULT_RESTART_DELAY_MS,
  ) {
    receiver.attach(this);
  }

  /** The receiver's name, as listeners see it. */
  get name(): string {
    return this.receiver.name;
  }

  /** Starts the receiver (when the context starts). */
  async start(): Promise<void> {
    await this.startReceiver();
  }

  /** Stops the receiver for good (when the context stops). */
  async stopByContext(): Promise<void> {
    this.stoppedByContext = true;
    clearTimeout(this.restartTimer);
    await this.stopReceiver("stopped by the StreamingContext", undefined);
  }

  store(records: ReadonlyArray<T>): void {
    if (this.state !== "started" && this.state !== "stopping") {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        `receiver ${this.receiver.name} (stream ${this.streamId}) cannot store records while ${this.state}`,
      );
    }
    this.keep(records);
  }

  reportError(message: string, error: unknown): void {
    this.lastMessage = message;
    this.lastError = error;
    this.bus.post("onReceiverError", this.info());
  }

  restart(message: string, error: unknown, delayMs: number | undefined): void {
    if (this.stoppedByContext) return;
    const delay = delayMs ?? this.restartDelayMs;
    void this.stopReceiver(`restarting receiver with delay ${delay} ms: ${message}`, error).then(
      () => {
        if (this.stoppedByContext) return;
        clearTimeout(this.restartTimer);
        this.restartTimer = setTimeout(() => void this.startReceiver(), delay);
      },
    );
  }

  stop(message: string, error: unknown): void {
    void this.stopReceiver(message, error);
  }

  isStarted(): boolean {
    return this.state === "started";
  }

  isStopped(): boolean {
    return this.state !== "started";
  }

  private async startReceiver(): Promise<void> {
    if (this.stoppedByContext || this.state === "started") return;
    this.state = "started";
    try {
      await this.receiver.onStart();
    } catch (error) {
      await this.stopReceiver(`error starting receiver ${this.receiver.name}`, error);
      return;
    }
    if (this.state === "started") this.bus.post("onReceiverStarted", this.info());
  }

  private async stopReceiver(message: string, error: unknown): Promise<void> {
    if (this.state !== "started") return;
    this.state = "stopping";
    this.lastMessage = message;
    if (error !== undefined) this.lastError = error;
    try {
      await this.receiver.onStop();
    } catch (stopError) {
      this.lastError = new SluiceError(
        "SLUICE_RECEIVER_FAILED",
        `receiver ${this.receiver.name} failed to stop: ${String(stopError)}`,
        { cause: stopError },
      );
    }
    this.state = "stopped";
    this.bus.post("onReceiverStopped", this.info());
  }

  private info(): ReceiverInfo {
    return {
      streamId: this.streamId,
      name: this.receiver.name,
      active: this.state === "started",
      lastErrorMessage: this.lastMessage,
      lastError: this.lastError,
    };
  }
}
