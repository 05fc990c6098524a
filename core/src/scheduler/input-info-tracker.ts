import type { StreamInputInfo } from "./listener.js";

/**
 * Collects, per batch time, how many records each input stream brought (Spark's
 * `InputInfoTracker`), for the listener's `BatchInfo`.
 *
 * @example
 * tracker.report(1000, { inputStreamId: 0, numRecords: 3 });
 */
export class InputInfoTracker {
  private readonly byTime = new Map<number, Map<number, StreamInputInfo>>();

  report(time: number, info: StreamInputInfo): void {
    let infos = this.byTime.get(time);
    if (infos === undefined) {
      infos = new Map();
      this.byTime.set(time, infos);
    }
    infos.set(info.inputStreamId, info);
  }

  /** The infos of one batch (empty when no input reported). */
  infosFor(time: number): ReadonlyMap<number, StreamInputInfo> {
    return this.byTime.get(time) ?? new Map();
  }

  /** Forgets every batch at or before `time`. */
  cleanup(time: number): void {
    for (const batchTime of this.byTime.keys()) {
      if (batchTime <= time) this.byTime.delete(batchTime);
    }
  }
}
