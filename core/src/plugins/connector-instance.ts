import { inspect } from "node:util";
import type { SinkPlugin, SourcePlugin } from "../connector/plugin.js";
import { formatConfig, redactConfig } from "../connector/redact.js";
import type { Sink } from "../connector/sink.js";
import type { Source } from "../connector/source.js";

type ConnectorOf<P> = P extends SourcePlugin ? Source : Sink;

/**
 * A connector a registry created: the running `connector`, the plugin it came from and its
 * parsed config. Printing or logging it shows the config with secrets redacted.
 *
 * @example
 * const input = registry.createSource("file", { directory: "in" });
 * await input.connector.connect(signal);
 * console.log(String(input)); // source:file#1 (file@0.1.0) {"directory":"in",...}
 */
export class ConnectorInstance<P extends SourcePlugin | SinkPlugin> {
  readonly id: string;
  readonly plugin: P;
  readonly connector: ConnectorOf<P>;
  // Private so that util.inspect and JSON.stringify never reach the secrets in it.
  readonly #config: unknown;

  constructor(id: string, plugin: P, config: unknown, connector: ConnectorOf<P>) {
    this.id = id;
    this.plugin = plugin;
    this.#config = config;
    this.connector = connector;
  }

  /** "source" or "sink". */
  get kind(): P["kind"] {
    return this.plugin.kind;
  }

  /** The parsed config, secrets included: hand it to code, never to a log. */
  get config(): unknown {
    return this.#config;
  }

  /** The parsed config with secrets replaced by `[redacted]`. */
  get redactedConfig(): unknown {
    return redactConfig(this.plugin.config, this.#config);
  }

  toJSON(): { id: string; plugin: string; config: unknown } {
    return { id: this.id, plugin: this.#pluginLabel(), config: this.redactedConfig };
  }

  toString(): string {
    return `${this.id} (${this.#pluginLabel()}) ${formatConfig(this.plugin.config, this.#config)}`;
  }

  [inspect.custom](): string {
    return `ConnectorInstance ${this.toString()}`;
  }

  #pluginLabel(): string {
    return `${this.plugin.name}@${this.plugin.version}`;
  }
}

/** A source a registry created. */
export type SourceInstance = ConnectorInstance<SourcePlugin>;
/** A sink a registry created. */
export type SinkInstance = ConnectorInstance<SinkPlugin>;
