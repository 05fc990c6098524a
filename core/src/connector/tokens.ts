import type { Writable } from "node:stream";
import type { Logger } from "pino";
import type { DeadLetter } from "./dead-letter.js";
import type { DependencyContainer } from "./di.js";
import type { SinkPlugin, SourcePlugin } from "./plugin.js";

/**
 * A symbol naming a service in a registry's container; the type parameter says what it resolves to.
 *
 * @example
 * const CLOCK = serviceToken<() => number>("my-plugin.Clock");
 */
export type ServiceToken<T> = symbol & { readonly __service?: T };

/**
 * Creates a `ServiceToken` (a unique symbol) for a service of type `T`.
 *
 * @example
 * const HTTP_AGENT = serviceToken<Agent>("acme.HttpAgent");
 * registry.register(HTTP_AGENT, new Agent({ keepAlive: true }));
 */
export function serviceToken<T>(description: string): ServiceToken<T> {
  return Symbol(description) as ServiceToken<T>;
}

/** Every source plugin registered in a registry (resolved with `resolveAll`). */
export const SOURCE_PLUGIN = serviceToken<SourcePlugin>("sluice.SourcePlugin");
/** Every sink plugin registered in a registry (resolved with `resolveAll`). */
export const SINK_PLUGIN = serviceToken<SinkPlugin>("sluice.SinkPlugin");
/** The registry's logger; connectors get children of it. */
export const CONNECTOR_LOGGER = serviceToken<Logger>("sluice.ConnectorLogger");
/** The registry's own child container. */
export const CONNECTOR_CONTAINER = serviceToken<DependencyContainer>("sluice.ConnectorContainer");
/** The registry's settings. */
export const REGISTRY_SETTINGS = serviceToken<RegistrySettings>("sluice.RegistrySettings");

/** Where the `console` sink prints: process.stdout/stderr unless a registry was given others. */
export interface ConsoleStreams {
  readonly stdout: Writable;
  readonly stderr: Writable;
}
/** The streams the `console` sink writes to. */
export const CONSOLE_STREAMS = serviceToken<ConsoleStreams>("sluice.ConsoleStreams");

/** Where a source sends records it cannot read (malformed, too long) instead of failing. */
export interface SourceDeadLetters {
  /** Keeps `letter` for the end of the next batch written (pass `batchTime: undefined`). */
  capture(letter: DeadLetter): void;
}
/**
 * The context's dead-letter output (`ctx.deadLetters`), registered only when it has one: a
 * source never sees its context, so it looks this up in its registry.
 */
export const SOURCE_DEAD_LETTERS = serviceToken<SourceDeadLetters>("sluice.SourceDeadLetters");

/** Settings a registry's services read. */
export interface RegistrySettings {
  /** How long `dispose()` waits for one connector's `close()` before reporting it as failed. */
  readonly closeTimeoutMs: number;
}
