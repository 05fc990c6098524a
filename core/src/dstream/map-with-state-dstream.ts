import { parseDuration } from "../util/duration.js";
import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import {
  InternalMapWithStateDStream,
  type MapWithStateRecord,
} from "./internal-map-with-state-dstream.js";
import type { StateSpec } from "./state.js";

/**
 * The stream `mapWithState` returns (Spark's `MapWithStateDStream`): what the function emitted
 * each batch, plus `stateSnapshots()` for the state itself.
 *
 * @example
 * const running = pairs.mapWithState({ fn: countWords });
 * running.stateSnapshots().print();
 */
export class MapWithStateDStream<K, V, S, E> extends DStream<E> {
  private readonly internal: InternalMapWithStateDStream<K, V, S, E>;

  constructor(parent: DStream<readonly [K, V]>, spec: StateSpec<K, V, S, E>) {
    super(parent.scope);
    const timeout =
      spec.timeout === undefined ? undefined : parseDuration(spec.timeout, "mapWithState: timeout");
    const numPartitions = this.partitionsOrDefault(spec.numPartitions, "mapWithState");
    this.internal = new InternalMapWithStateDStream(parent, spec, numPartitions, timeout);
  }

  /** Names the state for checkpoints (see `DStream.name`). */
  override name(stableName: string): this {
    super.name(stableName);
    this.internal.name(stableName);
    return this;
  }

  get slideDuration(): number {
    return this.internal.slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.internal];
  }

  /**
   * A stream of every key's state, `[key, state]`, after each batch.
   *
   * @example
   * running.stateSnapshots().foreachBatch((batch) => saveAll(batchRecords(batch)));
   */
  stateSnapshots(): DStream<[K, S]> {
    // Read where the state lives (the driver): the state maps never cross to executors.
    return new this.scope.operators.BatchMappedDStream(
      this.internal,
      (batch: Batch<MapWithStateRecord<K, S, E>>) =>
        batch.partitions.map((partition) =>
          partition.flatMap((record) =>
            Array.from(record.states, ([key, entry]): [K, S] => [key, entry.state]),
          ),
        ),
      "stateSnapshots",
    );
  }

  protected async compute(time: number): Promise<Batch<E> | undefined> {
    const batch = await this.internal.getOrCompute(time);
    if (batch === undefined) return undefined;
    return {
      time,
      partitions: batch.partitions.map((partition) => partition.flatMap((record) => record.mapped)),
    };
  }
}
