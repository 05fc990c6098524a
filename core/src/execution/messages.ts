import type { DeadLetter } from "../connector/dead-letter.js";
import type { ExecutorJobSpec } from "./executor-job-spec.js";
import type { ShippedColumns } from "./shipped-columns.js";
import type { ShippedPairs } from "./shipped-pairs.js";
import type { ShippedStrings } from "./shipped-strings.js";

/** A shuffle bucket: one map task's rows for one reduce partition, in shared memory. */
export type ShuffleBucket =
  | {
      /**
       * Any rows (`[key, value]` or `[key, combiner]`), as `v8.serialize` bytes; a named
       * reduction's `partial` rows are per-key partial aggregates.
       */
      readonly format: "v8";
      readonly bytes: SharedArrayBuffer;
      readonly rows: number;
      readonly partial: boolean;
    }
  | {
      /**
       * String keys and numbers, columnar: the keys' UTF-8 bytes back to back, `rows + 1` offsets,
       * one value per row (none for `count`'s raw rows). `partial` rows are per-key partial
       * aggregates, else raw rows.
       */
      readonly format: "utf8-f64";
      readonly keys: SharedArrayBuffer;
      readonly offsets: SharedArrayBuffer;
      readonly values: SharedArrayBuffer;
      readonly rows: number;
      readonly partial: boolean;
    }
  | {
      /**
       * Rows of a string key and a number that the map side built (`partial`: one combiner per
       * key), as `shipped-pairs.ts` writes them: the keys back to back in one string, where each
       * ends, and the numbers.
       */
      readonly format: "string-number";
      readonly text: string;
      readonly ends: SharedArrayBuffer;
      readonly values: SharedArrayBuffer;
      readonly rows: number;
      readonly partial: boolean;
    }
  | {
      /** Integer keys (numbers or bigints, as 64-bit integers) and numbers, columnar. */
      readonly format: "i64-f64";
      readonly family: "number" | "bigint";
      readonly keys: SharedArrayBuffer;
      readonly values: SharedArrayBuffer;
      readonly rows: number;
      readonly partial: boolean;
    };

/** Where a task's records come from. */
export type TaskInput =
  | { readonly kind: "records"; readonly records: ReadonlyArray<unknown> }
  /** A partition of strings as one string and where each ends (`shipped-strings.ts`). */
  | { readonly kind: "strings"; readonly strings: ShippedStrings }
  /** A columnar partition (decoded into records on the executor, not on the driver). */
  | { readonly kind: "columns"; readonly columns: ShippedColumns }
  /** A partition the executor keeps (`put-block`): a persisted collection's. */
  | { readonly kind: "block"; readonly blockId: string }
  | {
      readonly kind: "shuffle-read";
      /** The shuffle operator's stream id. */
      readonly shuffleId: number;
      /** Per parent of the shuffle (one, two for cogroup), the buckets of every map task in order. */
      readonly buckets: ReadonlyArray<ReadonlyArray<ShuffleBucket>>;
    };

/** What a task does with its records. */
export type TaskOutput =
  | { readonly kind: "records" }
  | {
      readonly kind: "shuffle-write";
      readonly shuffleId: number;
      /** Which parent of the shuffle these records belong to (cogroup has two). */
      readonly side: number;
      /** Map tasks of the shuffle in all (absent: more than one). */
      readonly mapTasks?: number;
    };

/** One task: (operation, batch time, partition) with its input, operator chain and output. */
export interface TaskSpec {
  readonly jobKey: number;
  readonly time: number;
  readonly partition: number;
  /** The stream named when the task fails outside an operator (the stage's operation). */
  readonly streamId: number;
  readonly input: TaskInput;
  /** Ids of the per-partition operators to apply, parent first. */
  readonly chain: ReadonlyArray<number>;
  readonly output: TaskOutput;
}

/** Where an executor spent a task's time, in milliseconds. */
export interface TaskPhases {
  /** The job's functions over records (parsing, mapping, filtering). */
  readonly functionsMs: number;
  /** Placing keys and encoding/decoding buckets. */
  readonly shuffleMs: number;
  /** Combining values per key. */
  readonly aggregateMs: number;
}

/** What a task produced. */
export type TaskResult =
  | { readonly kind: "records"; readonly records: unknown[]; readonly phases: TaskPhases }
  | {
      readonly kind: "buckets";
      readonly buckets: ShuffleBucket[];
      readonly bytes: number;
      readonly phases: TaskPhases;
    }
  | {
      /** A reduce side's `[string, number]` rows (`shipped-pairs.ts`), made again on the driver. */
      readonly kind: "string-pairs";
      readonly pairs: ShippedPairs;
      readonly phases: TaskPhases;
    }
  | {
      /** A named reduction's partition, columnar: decode keys to strings on the driver. */
      readonly kind: "utf8-groups";
      readonly keys: SharedArrayBuffer;
      readonly offsets: SharedArrayBuffer;
      readonly values: SharedArrayBuffer;
      readonly phases: TaskPhases;
    };

/** An error as it crosses threads (`code` and `streamId` survive, unlike a cloned Error). */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly code: string | undefined;
  /** The operator that threw, when known. */
  readonly streamId: number | undefined;
}

/** What the context's settings are, for the executor's copy of the graph. */
export interface JobSettings {
  readonly batchInterval: number;
  readonly defaultParallelism: number;
  readonly appName: string;
}

/** Driver → executor. */
export type ToExecutor =
  | {
      readonly type: "load";
      readonly jobKey: number;
      readonly job: ExecutorJobSpec;
      readonly settings: JobSettings;
      /** `id:name` of every stream on the driver, to check the rebuilt graph against. */
      readonly streams: ReadonlyArray<string>;
    }
  | { readonly type: "unload"; readonly jobKey: number }
  /**
   * Keep a partition's records under `blockId` until dropped or the job unloads (a persisted
   * collection's partition; tasks then read it as `{ kind: "block" }`).
   */
  | {
      readonly type: "put-block";
      readonly jobKey: number;
      readonly blockId: string;
      readonly input: Extract<TaskInput, { kind: "records" | "strings" }>;
    }
  | { readonly type: "drop-block"; readonly jobKey: number; readonly blockId: string }
  | { readonly type: "task"; readonly taskId: number; readonly task: TaskSpec };

/** Executor → driver. */
export type FromExecutor =
  | { readonly type: "ready" }
  | { readonly type: "boot-failed"; readonly error: SerializedError }
  | { readonly type: "loaded"; readonly jobKey: number }
  | { readonly type: "load-failed"; readonly jobKey: number; readonly error: SerializedError }
  | {
      readonly type: "task-done";
      readonly taskId: number;
      readonly result: TaskResult;
      /** Records the task's functions failed on, for the job's dead-letter sink. */
      readonly deadLetters?: readonly DeadLetter[];
    }
  | { readonly type: "task-failed"; readonly taskId: number; readonly error: SerializedError };
