// What the chaos tests and their job agree on (kept apart from the job, which runs on import).

/** What the chaos test tells the job. */
export interface ChaosJobSettings {
  readonly checkpoint: string;
  readonly batchIntervalMs: number;
  /** Where the words come from. */
  readonly source:
    | { readonly kind: "file"; readonly directory: string }
    | {
        readonly kind: "plugin";
        readonly module: string;
        readonly name: string;
        readonly config: unknown;
      };
  /** Where each output goes: a file folder, or a plugin sink with its config. */
  readonly outputs: Record<"counts" | "totals" | "windows", OutputTarget>;
}

/** A file folder, or a plugin sink. */
export type OutputTarget =
  | { readonly kind: "file"; readonly directory: string }
  | {
      readonly kind: "plugin";
      readonly module: string;
      readonly name: string;
      readonly config: unknown;
    };

/** The window of the sliding count, in batch intervals. */
export const WINDOW_BATCHES = 4;
/** How often the window slides, in batch intervals. */
export const SLIDE_BATCHES = 2;
