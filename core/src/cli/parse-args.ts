import { parseArgs } from "node:util";
import { CliError } from "./cli-error.js";

/** What the command line asked for. */
export type CliCommand =
  | { readonly command: "run" | "check"; readonly job: string; readonly flags: JobFlags }
  | { readonly command: "connectors"; readonly flags: CommonFlags }
  | { readonly command: "help" };

/** Flags every command takes. */
export interface CommonFlags {
  readonly config: string | undefined;
  readonly set: readonly string[];
  readonly json: boolean;
  readonly verbose: boolean;
  /** `--log`: how log lines look on stderr (`json` or `pretty`). */
  readonly log: string | undefined;
  /** `--log-level`: the least severe level logged (overrides `SLUICE_LOG_LEVEL`). */
  readonly logLevel: string | undefined;
}

/** Flags of `run` and `check`. */
export interface JobFlags extends CommonFlags {
  readonly master: string | undefined;
  readonly batch: string | undefined;
  readonly checkpoint: string | undefined;
  readonly connectTimeout: string | undefined;
  /** `--ui [host:]port`: serve the web UI and /metrics there. */
  readonly ui: string | undefined;
  /** `--metrics [host:]port`: serve /metrics only. */
  readonly metrics: string | undefined;
  /** `--cluster group[@host:port,...]`: run as one process of the job's cluster. */
  readonly cluster: string | undefined;
}

/** The usage text `sluice help` prints. */
export const USAGE = `Usage:
  sluice run <job.ts|job.js> [--master local[N]] [--batch 1s] [--checkpoint dir]
                             [--config file] [--set key=value ...] [--connect-timeout 30s]
                             [--ui [host:]port] [--metrics [host:]port]
                             [--cluster group[@host:port,...]]
                             [--json] [--verbose] [--log json|pretty] [--log-level level]
  sluice check <job> [--config file] [--set key=value ...]
  sluice connectors [--config file] [--json]
  sluice help | --help | -h

run         runs the job until it stops (Ctrl-C stops gracefully; a second Ctrl-C stops at once)
check       loads the config and builds the job's graph without starting it; lists every problem
connectors  lists the connectors available to jobs and their config options (secrets marked)

--config    a YAML or JSON file: appName, master, batchInterval, checkpoint, plugins, and job (the
            job's own settings, passed to its build function)
--set       overrides one config value by its dotted path, e.g. --set job.threshold=40
--connect-timeout  how long a source may fail to connect at start before the run fails (30s)
--ui        serves the web UI (live charts, batches, sources) and /metrics on [host:]port, on
            127.0.0.1 unless a host is given; off loopback it needs a token in SLUICE_UI_TOKEN
            (or ui.token in the config file), sent as ?token= once or Authorization: Bearer
--metrics   serves only /metrics (Prometheus text format) on [host:]port, with the same rules
--cluster   runs as one process of the job's cluster: every process given the same group shares
            the Kafka sources' partitions (docs/cluster.md); the brokers after @, else cluster.kafka
            of the config file
--json      progress as JSON lines on stderr instead of a status line
--verbose   stack traces with errors, and logs down to debug
--log       how log lines on stderr look: json (pino's JSON lines, the default) or pretty
--log-level the least severe level logged: fatal, error (the default), warn, info, debug, trace
            or silent; SLUICE_LOG_LEVEL sets it too`;

/**
 * Parses `sluice` command-line arguments; throws a `CliError` (exit code 2) naming what is wrong.
 *
 * @example
 * parseCommandLine(["run", "job.ts", "--master", "local[2]"]);
 */
export function parseCommandLine(argv: readonly string[]): CliCommand {
  // `--help` / `-h` anywhere asks for the usage, as every command-line tool answers it.
  if (argv.some((arg) => arg === "--help" || arg === "-h")) return { command: "help" };
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new CliError(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  const common: CommonFlags = {
    config: values.config,
    set: values.set ?? [],
    json: values.json ?? false,
    verbose: values.verbose ?? false,
    log: values.log,
    logLevel: values["log-level"],
  };
  switch (command) {
    case undefined:
    case "help":
      return { command: "help" };
    case "connectors":
      if (rest.length > 0) throw new CliError(`connectors takes no file: ${rest.join(" ")}`, 2);
      return { command: "connectors", flags: common };
    case "run":
    case "check": {
      const [job, ...extra] = rest;
      if (job === undefined) throw new CliError(`${command}: name the job file\n${USAGE}`, 2);
      if (extra.length > 0) throw new CliError(`${command}: unexpected ${extra.join(" ")}`, 2);
      return {
        command,
        job,
        flags: {
          ...common,
          master: values.master,
          batch: values.batch,
          checkpoint: values.checkpoint,
          connectTimeout: values["connect-timeout"],
          ui: values.ui,
          metrics: values.metrics,
          cluster: values.cluster,
        },
      };
    }
    default:
      throw new CliError(`unknown command "${command}"\n${USAGE}`, 2);
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      master: { type: "string" },
      batch: { type: "string" },
      checkpoint: { type: "string" },
      "connect-timeout": { type: "string" },
      config: { type: "string" },
      set: { type: "string", multiple: true },
      json: { type: "boolean" },
      verbose: { type: "boolean" },
      ui: { type: "string" },
      metrics: { type: "string" },
      cluster: { type: "string" },
      log: { type: "string" },
      "log-level": { type: "string" },
    },
  });
}
