/**
 * What an executor needs to rebuild a context's DStream graph: the module to import, the export
 * holding the job, how to call it, and the values it was given. Everything here crosses to the
 * worker threads by structured clone.
 */
export interface ExecutorJobSpec {
  /** The module's URL (`file:` URL of a `.js` or `.ts` file). */
  readonly module: string;
  /** The export holding the job (`"default"` for `export default defineJob(...)`). */
  readonly exportName: string;
  /**
   * `"context"`: a `defineJob` job, called with a context and `args`; `"streams"`: a
   * `streamsJob` of the test driver, called with `inputs` input streams.
   */
  readonly kind: "context" | "streams";
  /** For `"streams"` jobs: how many input streams the function receives. */
  readonly inputs: number;
  /** The job's arguments (`"context"` jobs); must be structured-cloneable. */
  readonly args: unknown;
  /** npm packages of connector plugins the job's connectors come from (`"context"` jobs). */
  readonly plugins?: readonly string[];
}
