/**
 * Where a `StreamingContext` is in its life: built and being set up (`INITIALIZED`), running
 * (`ACTIVE`), or stopped for good (`STOPPED`). Spark's `StreamingContextState`.
 */
export type ContextState = "INITIALIZED" | "ACTIVE" | "STOPPED";
