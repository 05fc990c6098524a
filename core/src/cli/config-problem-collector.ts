import type { Sink } from "../connector/sink.js";
import type { Source } from "../connector/source.js";
import { hasErrorCode, SluiceError } from "../errors/sluice-error.js";
import { ConnectorInstance } from "../plugins/connector-instance.js";
import type { ConnectorRegistry } from "../plugins/registry.js";

/**
 * Makes `registry` record each connector config that fails its schema instead of throwing it, so
 * that `sluice check` builds a job's whole graph and reports the problems of every connector, not
 * only the first one's. A connector with an invalid config gets a stand-in that refuses to run;
 * the context being checked is never started. Returns the errors, filled as the graph is built.
 *
 * @example
 * const problems = collectConfigProblems(connectorsOf(ctx));
 * definition.build(ctx, args);
 * for (const problem of problems) console.log(problem.message);
 */
export function collectConfigProblems(registry: ConnectorRegistry): readonly SluiceError[] {
  const problems: SluiceError[] = [];
  let standIns = 0;
  const invalid = (error: unknown, kind: "source" | "sink", name: string, id?: string): string => {
    if (!(error instanceof SluiceError) || !hasErrorCode(error, "SLUICE_INVALID_CONFIG")) {
      throw error;
    }
    problems.push(error);
    standIns++;
    return id ?? `${kind}:${name}#invalid-${standIns}`;
  };
  const createSource = registry.createSource.bind(registry);
  const createSink = registry.createSink.bind(registry);
  registry.createSource = (name, config, options) => {
    try {
      return createSource(name, config, options);
    } catch (error) {
      const id = invalid(error, "source", name, options?.id);
      return new ConnectorInstance(id, registry.sourcePlugin(name), config, standInSource(id));
    }
  };
  registry.createSink = (name, config, options) => {
    try {
      return createSink(name, config, options);
    } catch (error) {
      const id = invalid(error, "sink", name, options?.id);
      return new ConnectorInstance(id, registry.sinkPlugin(name), config, standInSink(id));
    }
  };
  return problems;
}

function refusal(id: string): SluiceError {
  return new SluiceError(
    "SLUICE_ILLEGAL_STATE",
    `${id} has an invalid config and stands in only while the job is checked; it cannot run`,
  );
}

function standInSource(id: string): Source {
  return {
    connect: async () => Promise.reject(refusal(id)),
    read: async () => Promise.reject(refusal(id)),
    pause: () => undefined,
    resume: () => undefined,
    close: async () => undefined,
  };
}

function standInSink(id: string): Sink {
  return {
    connect: async () => Promise.reject(refusal(id)),
    writeBatch: async () => Promise.reject(refusal(id)),
    close: async () => undefined,
  };
}
