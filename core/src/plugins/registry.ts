import type { Logger } from "pino";
import { validateConfig } from "../connector/config-validation.js";
import type { SinkContext, SourceContext } from "../connector/connector-context.js";
import { type DependencyContainer, Lifecycle, rootContainer } from "../connector/di.js";
import { isCloseName } from "../connector/edit-distance.js";
import type { ConnectorPlugin, SinkPlugin, SourcePlugin } from "../connector/plugin.js";
import { pluginProblems } from "../connector/plugin.js";
import { formatConfig } from "../connector/redact.js";
import type { Sink } from "../connector/sink.js";
import type { Source } from "../connector/source.js";
import {
  CONNECTOR_CONTAINER,
  CONNECTOR_LOGGER,
  CONSOLE_STREAMS,
  type ConsoleStreams,
  REGISTRY_SETTINGS,
  type RegistrySettings,
  type ServiceToken,
  SINK_PLUGIN,
  SOURCE_PLUGIN,
} from "../connector/tokens.js";
import { SluiceError } from "../errors/sluice-error.js";
import { sluiceLogger } from "../util/logger.js";
import { redactText } from "../util/redact-text.js";
import { redactingLogger } from "../util/redacting-logger.js";
import { ConnectorInstance, type SinkInstance, type SourceInstance } from "./connector-instance.js";
import { ConnectorTracker } from "./connector-tracker.js";
import { importPluginPackage } from "./plugin-loader.js";

/** How a `ConnectorRegistry` is set up. */
export interface ConnectorRegistryOptions {
  /**
   * The logger connectors log to (children of it), its calls redacted like Sluice's own lines;
   * default: pino at `SLUICE_LOG_LEVEL` or "warn".
   */
  readonly logger?: Logger;
  /** Plugins registered at once (`createConnectorRegistry` passes the built-in connectors). */
  readonly plugins?: readonly ConnectorPlugin[];
  /** Where the `console` sink prints; default process.stdout / process.stderr. */
  readonly consoleStreams?: ConsoleStreams;
  /** How long `dispose()` waits for one connector's `close()`; default 30 000 ms. */
  readonly closeTimeoutMs?: number;
}

/** Options for one connector a registry creates. */
export interface CreateConnectorOptions {
  /** The id in logs and errors; default `source:<name>#<n>` / `sink:<name>#<n>`. Unique per registry. */
  readonly id?: string;
}

/** Options for a source a registry creates. */
export interface CreateSourceOptions extends CreateConnectorOptions {
  /** The checkpointed offsets of the previous run, per partition (replayable sources resume after them). */
  readonly committedOffsets?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
}

/** Options for `loadPlugins`. */
export interface LoadPluginsOptions {
  /** The folder whose node_modules (and its parents') hold the packages; default process.cwd(). */
  readonly resolveFrom?: string;
}

/** Connectors of Sluice's own that ship as packages of their own, by connector name. */
const OWN_CONNECTOR_PACKAGES: Readonly<Record<string, string>> = {
  kafka: "@sluice/kafka",
  mqtt: "@sluice/mqtt",
  rabbitmq: "@sluice/rabbitmq",
  cassandra: "@sluice/cassandra",
};

/**
 * The connector plugins and connectors of one StreamingContext, in a tsyringe child container
 * of its own: two contexts in one process share no plugin list and no connector. Plugins are
 * registered explicitly (`use`, `loadPlugins`, `plugins` at construction); `dispose()`
 * closes every connector the registry created.
 *
 * @example
 * const registry = new ConnectorRegistry({ plugins: [fileSource] });
 * const input = registry.createSource("file", { directory: "incoming" });
 * // ...
 * await registry.dispose();
 */
export class ConnectorRegistry {
  readonly #container: DependencyContainer;
  readonly #tracker: ConnectorTracker;
  readonly #logger: Logger;
  readonly #counters = new Map<string, number>();
  readonly #ids = new Set<string>();
  #disposal: Promise<void> | undefined;

  constructor(options: ConnectorRegistryOptions = {}) {
    const settings: RegistrySettings = { closeTimeoutMs: options.closeTimeoutMs ?? 30_000 };
    // An application's own logger writes through its own hooks: its calls are redacted here.
    this.#logger = options.logger === undefined ? defaultLogger() : redactingLogger(options.logger);
    this.#container = rootContainer.createChildContainer();
    this.#container.register(CONNECTOR_CONTAINER, { useValue: this.#container });
    this.#container.register(CONNECTOR_LOGGER, { useValue: this.#logger });
    this.#container.register(REGISTRY_SETTINGS, { useValue: settings });
    this.#container.register(CONSOLE_STREAMS, {
      useValue: options.consoleStreams ?? { stdout: process.stdout, stderr: process.stderr },
    });
    this.#container.register(
      ConnectorTracker,
      { useClass: ConnectorTracker },
      { lifecycle: Lifecycle.ContainerScoped },
    );
    this.#tracker = this.#container.resolve(ConnectorTracker);
    if (options.plugins !== undefined) this.use(...options.plugins);
  }

  /** The logger connectors of this registry log to. */
  get logger(): Logger {
    return this.#logger;
  }

  /** True once `dispose()` was called. */
  get disposed(): boolean {
    return this.#disposal !== undefined;
  }

  /**
   * Registers plugins (idempotent for the same plugin object). A second, different plugin of the
   * same kind and name is refused.
   *
   * @example
   * registry.use(webhookSource);
   */
  use(...plugins: ConnectorPlugin[]): this {
    this.#assertOpen();
    for (const plugin of plugins) {
      const problems = pluginProblems(plugin);
      if (problems.length > 0) {
        throw new SluiceError(
          "SLUICE_PLUGIN_INVALID",
          `Not a connector plugin:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`,
        );
      }
      const existing = this.#plugins(plugin.kind).find((known) => known.name === plugin.name);
      if (existing === plugin) continue;
      if (existing !== undefined) {
        throw new SluiceError(
          "SLUICE_PLUGIN_CONFLICT",
          `A ${plugin.kind} named "${plugin.name}" is already registered (version ${existing.version}); cannot register version ${plugin.version} too. Each name is registered once per context.`,
        );
      }
      const token = plugin.kind === "source" ? SOURCE_PLUGIN : SINK_PLUGIN;
      this.#container.register<ConnectorPlugin>(token, { useValue: plugin });
      this.#logger.debug(
        { plugin: `${plugin.name}@${plugin.version}`, kind: plugin.kind },
        "plugin registered",
      );
    }
    return this;
  }

  /**
   * Imports plugin packages by name (e.g. the job config's `plugins: ["@acme/sluice-redis"]`)
   * and registers what they export.
   *
   * @example
   * await registry.loadPlugins(["@acme/sluice-redis"]);
   */
  async loadPlugins(
    names: readonly string[],
    options: LoadPluginsOptions = {},
  ): Promise<ConnectorPlugin[]> {
    this.#assertOpen();
    const loaded: ConnectorPlugin[] = [];
    for (const name of names) {
      const plugins = await importPluginPackage(name, options.resolveFrom ?? process.cwd());
      this.use(...plugins);
      loaded.push(...plugins);
    }
    return loaded;
  }

  /**
   * Registers a service plugins can `resolve` from their context (overrides an earlier one).
   *
   * @example
   * registry.register(CONSOLE_STREAMS, { stdout: capture, stderr: capture });
   */
  register<T>(token: ServiceToken<T>, value: T): this {
    this.#assertOpen();
    this.#container.register(token, { useValue: value });
    return this;
  }

  /**
   * A service registered in this registry.
   *
   * @example
   * const streams = registry.resolve(CONSOLE_STREAMS);
   */
  resolve<T>(token: ServiceToken<T>): T {
    this.#assertOpen();
    return this.#container.resolve<T>(token);
  }

  /** Every registered source plugin, in registration order. */
  sourcePlugins(): SourcePlugin[] {
    return this.#plugins("source") as SourcePlugin[];
  }

  /** Every registered sink plugin, in registration order. */
  sinkPlugins(): SinkPlugin[] {
    return this.#plugins("sink") as SinkPlugin[];
  }

  /**
   * The source plugin called `name`, or an error listing the registered ones.
   *
   * @example
   * registry.sourcePlugin("file").capabilities.replayable; // true
   */
  sourcePlugin(name: string): SourcePlugin {
    return this.#plugin("source", name) as SourcePlugin;
  }

  /**
   * The sink plugin called `name`, or an error listing the registered ones.
   *
   * @example
   * registry.sinkPlugin("console").capabilities.idempotent; // false
   */
  sinkPlugin(name: string): SinkPlugin {
    return this.#plugin("sink", name) as SinkPlugin;
  }

  /**
   * Validates `config` against the source plugin's schema (every invalid field reported at
   * once), creates the connector and tracks it for `dispose()`. No I/O happens yet.
   *
   * @example
   * const { connector } = registry.createSource("socket", { host: "127.0.0.1", port: 9999 });
   */
  createSource(name: string, config: unknown, options: CreateSourceOptions = {}): SourceInstance {
    this.#assertOpen();
    const plugin = this.sourcePlugin(name);
    const parsed = validateConfig(plugin.config, config, subjectOf("source", name, options.id));
    const id = this.#newId("source", name, options.id);
    const committed = options.committedOffsets;
    const context: SourceContext = {
      ...this.#context(id),
      committedOffsets:
        committed instanceof Map ? new Map(committed) : new Map(Object.entries(committed ?? {})),
    };
    const connector = this.#create(plugin, parsed, context, id, SOURCE_METHODS) as Source;
    const instance = new ConnectorInstance(id, plugin, parsed, connector);
    this.#tracker.track(instance);
    this.#logger.info(
      {
        connector: id,
        plugin: `${plugin.name}@${plugin.version}`,
        config: instance.redactedConfig,
      },
      "source created",
    );
    return instance;
  }

  /**
   * Validates `config` against the sink plugin's schema, creates the connector and tracks it.
   *
   * @example
   * const { connector } = registry.createSink("file", { directory: "out" });
   */
  createSink(name: string, config: unknown, options: CreateConnectorOptions = {}): SinkInstance {
    this.#assertOpen();
    const plugin = this.sinkPlugin(name);
    const parsed = validateConfig(plugin.config, config, subjectOf("sink", name, options.id));
    const id = this.#newId("sink", name, options.id);
    const context: SinkContext = this.#context(id);
    const connector = this.#create(plugin, parsed, context, id, SINK_METHODS) as Sink;
    const instance = new ConnectorInstance(id, plugin, parsed, connector);
    this.#tracker.track(instance);
    this.#logger.info(
      {
        connector: id,
        plugin: `${plugin.name}@${plugin.version}`,
        config: instance.redactedConfig,
      },
      "sink created",
    );
    return instance;
  }

  /**
   * Closes every connector this registry created (sources, then sinks; all attempted, failures
   * reported together as `SLUICE_CONNECTOR_CLOSE_FAILED`) and releases the container.
   * Calling it again returns the same promise.
   *
   * @example
   * await registry.dispose();
   */
  dispose(): Promise<void> {
    if (this.#disposal === undefined) {
      this.#logger.debug({ connectors: this.#tracker.ids() }, "closing connectors");
      this.#disposal = Promise.resolve().then(() => this.#container.dispose());
    }
    return this.#disposal;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #plugins(kind: "source" | "sink"): ConnectorPlugin[] {
    const token = kind === "source" ? SOURCE_PLUGIN : SINK_PLUGIN;
    if (!this.#container.isRegistered(token)) return [];
    return this.#container.resolveAll<ConnectorPlugin>(token);
  }

  #plugin(kind: "source" | "sink", name: string): ConnectorPlugin {
    this.#assertOpen();
    const plugins = this.#plugins(kind);
    const plugin = plugins.find((candidate) => candidate.name === name);
    if (plugin !== undefined) return plugin;
    const known = plugins.map((candidate) => `"${candidate.name}"`).join(", ") || "none";
    const own = OWN_CONNECTOR_PACKAGES[name];
    const close = plugins.find((candidate) => isCloseName(name, candidate.name));
    const advice =
      own !== undefined
        ? `The ${name} connectors come in their own package: \`npm install ${own}\`, then list "${own}" in the job's \`plugins\` (or pass its plugins to use()).`
        : close !== undefined
          ? `Did you mean "${close.name}"?`
          : "A third-party connector must be installed and listed in `plugins` (or registered with use()).";
    throw new SluiceError(
      "SLUICE_UNKNOWN_CONNECTOR",
      `No ${kind} connector named "${name}". Registered ${kind}s: ${known}. ${advice}`,
    );
  }

  #context(id: string): SinkContext {
    return {
      id,
      logger: this.#logger.child({ connector: id }),
      resolve: <T>(token: ServiceToken<T>): T => this.#container.resolve<T>(token),
    };
  }

  #create(
    plugin: ConnectorPlugin,
    config: unknown,
    context: SourceContext | SinkContext,
    id: string,
    methods: readonly string[],
  ): unknown {
    let connector: unknown;
    try {
      // Which context goes with which kind is settled by the callers.
      connector = (plugin.create as (config: unknown, context: unknown) => unknown)(
        config,
        context,
      );
    } catch (error) {
      if (error instanceof SluiceError) throw error;
      // A plugin's own error may quote the URL or the credentials it was given.
      const reason = redactText(error instanceof Error ? error.message : String(error));
      throw new SluiceError(
        "SLUICE_PLUGIN_INVALID",
        `The ${plugin.kind} plugin "${plugin.name}" failed to create ${id} with config ${formatConfig(plugin.config, config)}: ${reason}`,
        { cause: error },
      );
    }
    const missing = methods.filter(
      (method) =>
        connector === null ||
        typeof connector !== "object" ||
        typeof (connector as Record<string, unknown>)[method] !== "function",
    );
    if (missing.length > 0 || connector instanceof Promise) {
      throw new SluiceError(
        "SLUICE_PLUGIN_INVALID",
        `The ${plugin.kind} plugin "${plugin.name}" create() must synchronously return a ${plugin.kind} with ${methods.join(", ")}; ${connector instanceof Promise ? "it returned a Promise (do I/O in connect, not create)" : `missing: ${missing.join(", ")}`}.`,
      );
    }
    return connector;
  }

  #newId(kind: "source" | "sink", name: string, requested: string | undefined): string {
    let id = requested;
    if (id === undefined) {
      const count = (this.#counters.get(`${kind}:${name}`) ?? 0) + 1;
      this.#counters.set(`${kind}:${name}`, count);
      id = `${kind}:${name}#${count}`;
    }
    if (this.#ids.has(id)) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `A connector with id "${id}" already exists in this context; give each connector its own id.`,
      );
    }
    this.#ids.add(id);
    return id;
  }

  #assertOpen(): void {
    if (this.#disposal !== undefined) {
      throw new SluiceError(
        "SLUICE_REGISTRY_DISPOSED",
        "This connector registry was disposed (its context stopped); create a new context to run again.",
      );
    }
  }
}

const SOURCE_METHODS = ["connect", "read", "pause", "resume", "close"] as const;
const SINK_METHODS = ["connect", "writeBatch", "close"] as const;

function defaultLogger(): Logger {
  return sluiceLogger("warn");
}

// A job with two connectors of one plugin needs the id to tell which config is wrong.
function subjectOf(kind: "source" | "sink", name: string, id: string | undefined): string {
  return id === undefined ? `${kind} "${name}"` : `${kind} "${name}" (id "${id}")`;
}
