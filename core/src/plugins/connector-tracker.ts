import type { Logger } from "pino";
import { type Disposable, inject, injectable } from "../connector/di.js";
import { CONNECTOR_LOGGER, REGISTRY_SETTINGS, type RegistrySettings } from "../connector/tokens.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { SinkInstance, SourceInstance } from "./connector-instance.js";

/**
 * Remembers every connector a registry created and closes them all when the registry's
 * container is disposed: sources first (no new input), then sinks; every close is attempted
 * even when others fail, and the failures come back together in one error.
 */
@injectable()
export class ConnectorTracker implements Disposable {
  readonly #logger: Logger;
  readonly #settings: RegistrySettings;
  readonly #sources: SourceInstance[] = [];
  readonly #sinks: SinkInstance[] = [];

  constructor(
    @inject(CONNECTOR_LOGGER) logger: Logger,
    @inject(REGISTRY_SETTINGS) settings: RegistrySettings,
  ) {
    this.#logger = logger;
    this.#settings = settings;
  }

  track(instance: SourceInstance | SinkInstance): void {
    if (instance.plugin.kind === "source") this.#sources.push(instance as SourceInstance);
    else this.#sinks.push(instance as SinkInstance);
  }

  /** Ids of the connectors created so far, in creation order per kind. */
  ids(): string[] {
    return [...this.#sources, ...this.#sinks].map((instance) => instance.id);
  }

  async dispose(): Promise<void> {
    const sources = this.#sources.splice(0);
    const sinks = this.#sinks.splice(0);
    const failures = [
      ...(await Promise.all(sources.map((instance) => this.#close(instance)))),
      ...(await Promise.all(sinks.map((instance) => this.#close(instance)))),
    ].filter((failure): failure is { id: string; error: unknown } => failure !== undefined);
    if (failures.length === 0) return;
    const lines = failures.map(({ id, error }) => `  - ${id}: ${messageOf(error)}`);
    throw new SluiceError(
      "SLUICE_CONNECTOR_CLOSE_FAILED",
      `${failures.length} of ${sources.length + sinks.length} connectors failed to close (the others were closed):\n${lines.join("\n")}`,
      {
        cause: new AggregateError(
          failures.map((failure) => failure.error),
          "connector close failures",
        ),
      },
    );
  }

  async #close(
    instance: SourceInstance | SinkInstance,
  ): Promise<{ id: string; error: unknown } | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.#settings.closeTimeoutMs;
    try {
      await Promise.race([
        Promise.resolve().then(() => instance.connector.close()),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`close() did not finish within ${timeoutMs} ms`)),
            timeoutMs,
          );
          timer.unref();
        }),
      ]);
      this.#logger.debug({ connector: instance.id }, "connector closed");
      return undefined;
    } catch (error) {
      this.#logger.error({ connector: instance.id, err: error }, "connector failed to close");
      return { id: instance.id, error };
    } finally {
      clearTimeout(timer);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
