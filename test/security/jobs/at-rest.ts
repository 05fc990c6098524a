// A job that leaves everything Sluice writes on disk behind: lines from a socket (kept in the
// write-ahead log), a failing map (dead letters), checkpoints, a file output, and a sink whose
// config holds credentials, for the secret-leak test.
import { defineJob, secret } from "sluice";
import { defineSink, redactConfig, tlsConfig } from "sluice/connector";
import { z } from "zod";

const vaultConfig = z.strictObject({
  url: z.string(),
  username: z.string(),
  password: secret(z.string()),
  tls: tlsConfig,
});

// A sink in the style of a broker's: it logs its (redacted) config on connect and keeps nothing.
const vaultSink = defineSink({
  name: "vault",
  version: "0.1.0",
  config: vaultConfig,
  capabilities: { idempotent: true },
  create: (config, context) => ({
    connect: async () => {
      context.logger.info({ config: redactConfig(vaultConfig, config) }, "vault connected");
    },
    writeBatch: async () => undefined,
    close: async () => undefined,
  }),
});

interface AtRestArgs {
  readonly port: number;
  readonly output: string;
  readonly deadLetters: string;
  readonly vault: unknown;
}

export default defineJob<AtRestArgs>((ctx, args) => {
  ctx.deadLetters("file", { directory: args.deadLetters, format: "jsonl" });
  const lines = ctx
    .source("socket", { host: "127.0.0.1", port: args.port, onServerClose: "end" })
    .map((record) => {
      const line = new TextDecoder().decode(record.value);
      if (line.startsWith("bad")) throw new Error(`cannot take ${line}`);
      return line.toUpperCase();
    });
  lines.sink("file", { directory: args.output });
  lines.sink(vaultSink, args.vault);
});
