import type { Logger } from "pino";
import type { ServiceToken } from "./tokens.js";

/**
 * What a plugin's `create` gets besides its config.
 *
 * @example
 * create(config, context) {
 *   context.logger.info("creating");
 *   return new MySource(config, context.logger);
 * }
 */
export interface ConnectorContext {
  /** This connector's id in its registry, e.g. `source:file#1`; use it in log lines. */
  readonly id: string;
  /** A logger bound to this connector. Log config only through `redactConfig`. */
  readonly logger: Logger;
  /** A service registered in the connector registry (`registry.register(token, value)`). */
  resolve<T>(token: ServiceToken<T>): T;
}

/**
 * What a source plugin's `create` gets.
 *
 * @example
 * const position = context.committedOffsets.get("orders.log") ?? "0";
 */
export interface SourceContext extends ConnectorContext {
  /**
   * The last checkpointed offset per partition, from the previous run of the job; empty on a
   * first run and for non-replayable sources. A replayable source resumes after these.
   */
  readonly committedOffsets: ReadonlyMap<string, string>;
}

/** What a sink plugin's `create` gets. */
export type SinkContext = ConnectorContext;
