import type { ParsedCounter as NativeCounterState } from "@sluice/native";
import { checkNumPartitions } from "./check-num-partitions.js";
import { finishedCounter } from "./js-count-parsed.js";
import type { KeyColumn, ParsedCounter, Utf8Groups } from "./kernels.js";
import { callNative, callNativeAsync } from "./native-kernels.js";

/** The binding's counter class, as the generated `.d.ts` types it. */
export type NativeCounterClass = new (
  ...args: ConstructorParameters<typeof NativeCounterState>
) => NativeCounterState;

/**
 * The Rust `ParsedCounter` behind the `ParsedCounter` interface: a finished counter refused
 * before the call, errors rethrown as `SluiceError`s with the twin's codes.
 *
 * @example
 * const counter = new NativeParsedCounter(binding.ParsedCounter, { kind: "words" });
 */
export class NativeParsedCounter implements ParsedCounter {
  private readonly state: NativeCounterState;
  private finished = false;

  constructor(Native: NativeCounterClass, parser: ConstructorParameters<NativeCounterClass>[0]) {
    this.state = callNative(() => new Native(parser));
  }

  count(values: KeyColumn): void {
    if (this.finished) throw finishedCounter();
    callNative(() => this.state.count(values.keys, values.offsets));
  }

  async countAsync(values: KeyColumn): Promise<void> {
    if (this.finished) throw finishedCounter();
    await callNativeAsync(() => this.state.countAsync(values.keys, values.offsets));
  }

  finish(numPartitions = 1): Utf8Groups[] {
    if (this.finished) throw finishedCounter();
    checkNumPartitions(numPartitions);
    const parts = callNative(() => this.state.finish(numPartitions));
    this.finished = true;
    return parts.map((part) => ({
      keys: { keys: part.keys, offsets: part.offsets },
      values: part.values,
    }));
  }
}
