// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config references are written as a user writes them
// Runs `sluice check`, `sluice run` and `sluice connectors` as a user does, over bad and good
// configs holding known secret strings, and greps everything they print, every file they write
// and what the web UI's /api serves for those strings. Also checks that what a run keeps on disk
// is private (0600 / 0700).
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CLIENT_CERT, CLIENT_KEY } from "../../core/test/connector/tls-fixtures.js";
import { SluiceProcess } from "../samples/sluice-process.js";

// Each test starts one or two `sluice` processes (tsx compiles the job first): on a loaded
// machine that takes a while, so tests get room; nothing waits on a clock.
const PROCESS_TESTS = { timeout: 180_000 };

const job = (name: string): string => fileURLToPath(new URL(`./jobs/${name}`, import.meta.url));

// Every string that must never be printed or written; each is unique so a hit names the leak.
const SECRETS = {
  misspeltSaslPassword: "kafka-sasl-pasword-3f9a1c",
  misspeltTlsKey: "MIIEpAIBAAKCAQEAmisspeltTlsKeyBody7d21",
  typoSchemeUrlPassword: "typo-scheme-url-pw-8b4e",
  atInUrlPassword: "at-in-url-pw-c55d",
  envPassword: "env-ref-password-e2a7",
  envUser: "env-ref-user-4c0d",
  // A line of the real key read through ${file:…}: the TLS settings are checked when the
  // config is validated, so a good config needs a key that parses and its certificate.
  fileKey: CLIENT_KEY.split("\n")[1] ?? "",
  vaultUrlPassword: "vault-url-pw-0b6f",
  leakyUrlPassword: "leaky-url-pw-91d2",
  uiToken: "ui-token-of-the-leak-test-5e3a08",
  executorUrlPassword: "executor-url-pw-6a0e",
  executorHeader: "executor-header-ref-2d8b",
  executorSinkPassword: "executor-sink-pw-a41f",
  setPassword: "set-on-the-command-line-pw-77c1",
} as const;

const pem = (body: string): string =>
  `-----BEGIN PRIVATE KEY-----\n${body}\n${body}\n-----END PRIVATE KEY-----\n`;

// Nothing listens on port 1 of the loopback: connections are refused at once.
const CLOSED = "127.0.0.1:1";
const ENV = {
  SLUICE_LEAK_TEST_PASSWORD: SECRETS.envPassword,
  SLUICE_LEAK_TEST_USER: SECRETS.envUser,
  SLUICE_LEAK_TEST_HEADER: SECRETS.executorHeader,
  // Everything down to debug is logged, so every log line is searched.
  SLUICE_LOG_LEVEL: "debug",
};

let root: string;
/** What every process printed, with the command, for the final grep. */
const printed: { command: string; text: string }[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-secret-leaks-"));
  await writeFile(join(root, "client-key.pem"), CLIENT_KEY);
  await writeFile(join(root, "client-cert.pem"), CLIENT_CERT);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function config(name: string, lines: readonly string[]): Promise<string> {
  const file = join(root, name);
  await writeFile(file, `${lines.join("\n")}\n`);
  return file;
}

async function sluice(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  const child = new SluiceProcess(args, ENV);
  const exit = await child.exited;
  const output = `${exit.stdout}\n${exit.stderr}`;
  printed.push({ command: `sluice ${args.join(" ")}`, text: output });
  return { code: exit.code, output };
}

/** The secrets found in `text`, by name: empty when nothing leaked. */
function leaksIn(text: string): string[] {
  return Object.entries(SECRETS)
    .filter(([, value]) => text.includes(value))
    .map(([name]) => name);
}

const badKafka = () =>
  config("bad-kafka.yaml", [
    "job:",
    "  kafka:",
    `    brokers: ["${CLOSED}"]`,
    "    topics: [orders]",
    "    groupId: leak-test",
    "    sasl:",
    "      mechanism: plain",
    "      username: app",
    `      pasword: ${SECRETS.misspeltSaslPassword}`,
    "    tls:",
    "      keyy: |",
    ...pem(SECRETS.misspeltTlsKey)
      .trimEnd()
      .split("\n")
      .map((line) => `        ${line}`),
  ]);

const badRabbitUrls = () =>
  config("bad-rabbitmq.yaml", [
    "job:",
    "  rabbitmq:",
    `    url: "amqp//app:${SECRETS.typoSchemeUrlPassword}@${CLOSED}"`,
    "    queue: { name: orders }",
    "    prefetch: 0",
  ]);

const goodBrokers = () =>
  config("good-brokers.yaml", [
    "job:",
    "  rabbitmq:",
    `    url: "amqp://app:x@${SECRETS.atInUrlPassword}@${CLOSED}/"`,
    "    queue: { name: orders }",
    "  kafka:",
    `    brokers: ["${CLOSED}"]`,
    "    topics: [orders]",
    "    groupId: leak-test",
    "    sasl:",
    "      mechanism: plain",
    "      username: ${env:SLUICE_LEAK_TEST_USER}",
    "      password: ${env:SLUICE_LEAK_TEST_PASSWORD}",
    "    tls:",
    "      cert: ${file:client-cert.pem}",
    "      key: ${file:client-key.pem}",
  ]);

describe("secrets are never printed", () => {
  it(
    "sluice check: a misspelt SASL password and TLS key are not echoed",
    PROCESS_TESTS,
    async () => {
      const { code, output } = await sluice([
        "check",
        job("brokers.ts"),
        "--config",
        await badKafka(),
      ]);
      expect(code, output).toBe(2);
      expect(output).toContain("Config given:");
      expect(output).toContain("sasl.pasword: Unknown field.");
      expect(output).toContain("tls.keyy: Unknown field.");
      expect(leaksIn(output)).toEqual([]);
    },
  );

  it(
    "sluice check: a bad ui section beside its token, and --set values beside a secret, are not echoed",
    PROCESS_TESTS,
    async () => {
      const file = await config("bad-ui.yaml", [
        "ui:",
        `  token: ${SECRETS.uiToken}`,
        '  port: "not a port"',
        "job: {}",
      ]);
      const ui = await sluice(["check", job("brokers.ts"), "--config", file]);
      expect(ui.code, ui.output).toBe(2);
      expect(ui.output).toMatch(/ui\.port/);
      expect(leaksIn(ui.output)).toEqual([]);

      const set = await sluice([
        "check",
        job("brokers.ts"),
        "--config",
        await goodBrokers(),
        "--set",
        `job.kafka.sasl.password=${SECRETS.setPassword}`,
        "--set",
        "job.kafka.brokerz=1",
      ]);
      expect(set.code, set.output).toBe(2);
      expect(set.output).toContain("brokerz: Unknown field.");
      expect(leaksIn(set.output)).toEqual([]);
    },
  );

  it("sluice check: a URL with a misspelt scheme is not echoed", PROCESS_TESTS, async () => {
    const file = await badRabbitUrls();
    const { code, output } = await sluice(["check", job("brokers.ts"), "--config", file]);
    expect(code, output).toBe(2);
    expect(output).toContain("url: Must start with amqp:// or amqps://");
    expect(output).toContain("Config given:");
    expect(leaksIn(output)).toEqual([]);
  });

  it(
    "sluice check: a valid config with references and a password holding @ shows none",
    PROCESS_TESTS,
    async () => {
      const { code, output } = await sluice([
        "check",
        job("brokers.ts"),
        "--config",
        await goodBrokers(),
      ]);
      expect(code, output).toBe(0);
      expect(output).toContain("the config and the job's graph are valid");
      expect(leaksIn(output)).toEqual([]);
    },
  );

  it(
    "sluice check: an unresolvable reference names the setting and the variable, and no value",
    PROCESS_TESTS,
    async () => {
      const file = await config("unresolved.yaml", [
        "job:",
        "  rabbitmq:",
        "    url: amqp://${env:SLUICE_LEAK_TEST_USER}:${env:SLUICE_LEAK_TEST_PASSWORD}@127.0.0.1:1",
        "    password: ${env:SLUICE_LEAK_TEST_MISSING}",
        "    tls: { key: '${file:missing-key.pem}' }",
        "    queue: { name: orders }",
      ]);
      const { code, output } = await sluice(["check", job("brokers.ts"), "--config", file]);
      expect(code, output).toBe(2);
      expect(output).toContain("2 references cannot be resolved");
      expect(output).toContain(
        "job.rabbitmq.password: ${env:SLUICE_LEAK_TEST_MISSING}: the environment variable SLUICE_LEAK_TEST_MISSING is not set",
      );
      expect(output).toContain(
        `job.rabbitmq.tls.key: \${file:missing-key.pem}: cannot read the file ${join(root, "missing-key.pem")}`,
      );
      expect(leaksIn(output)).toEqual([]);
    },
  );

  it("sluice run: bad configs fail without echoing a secret", PROCESS_TESTS, async () => {
    for (const file of [await badKafka(), await badRabbitUrls()]) {
      const { code, output } = await sluice(["run", job("brokers.ts"), "--config", file]);
      expect(code, output).not.toBe(0);
      expect(output).toContain("Invalid config for source");
      expect(leaksIn(output)).toEqual([]);
    }
  });

  it(
    "sluice check and run: a job's error quoting its settings is redacted",
    PROCESS_TESTS,
    async () => {
      const file = await config("quoting.yaml", [
        "job:",
        `  url: "amqp://app:${SECRETS.typoSchemeUrlPassword}@broker:5672"`,
        "  token: ${env:SLUICE_LEAK_TEST_PASSWORD}",
      ]);
      for (const command of ["check", "run"]) {
        const { code, output } = await sluice([
          command,
          job("quotes-its-config.ts"),
          "--config",
          file,
        ]);
        expect(code, output).not.toBe(0);
        expect(output).toContain(
          "cannot use amqp://[redacted]@broker:5672 with the token [redacted]",
        );
        expect(leaksIn(output)).toEqual([]);
      }
    },
  );

  it(
    "sluice run: the 'source created' log lines and the connect failures show no secret",
    PROCESS_TESTS,
    async () => {
      const { code, output } = await sluice([
        "run",
        job("brokers.ts"),
        "--config",
        await goodBrokers(),
        "--connect-timeout",
        "2s",
      ]);
      expect(code, output).toBe(1);
      expect(output).toContain('"msg":"source created"');
      // Whether the CLI gives up on the connect timeout or a connector refuses at once, it ends
      // with one line naming what failed.
      expect(output, output).toMatch(/^sluice: .*(could not connect|failed)/m);
      expect(leaksIn(output)).toEqual([]);
    },
  );

  it(
    "sluice run with the UI: a connector's log lines, its error on the status line and in the UI's /api show no secret, nor the UI's token",
    PROCESS_TESTS,
    async () => {
      const file = await config("leaky.yaml", [
        "ui:",
        "  port: 0",
        `  token: ${SECRETS.uiToken}`,
        "job:",
        "  leaky:",
        `    url: "amqp://app:${SECRETS.leakyUrlPassword}@${CLOSED}/"`,
        "    quoted:",
        "      - ${env:SLUICE_LEAK_TEST_PASSWORD}",
        `      - ${SECRETS.uiToken}`,
      ]);
      const url = `amqp://[redacted]@${CLOSED}/`;
      // The source never connects; the CLI must not give up before the UI was read.
      const child = new SluiceProcess(
        ["run", job("leaky-source.ts"), "--config", file, "--connect-timeout", "1h"],
        ENV,
      );
      let api: string;
      try {
        const ui = await printedUiAddress(child);
        // The page's data, once the source's failure reached it.
        api = await vi.waitFor(
          async () => {
            const response = await fetch(`${ui}api/job`, {
              headers: { authorization: `Bearer ${SECRETS.uiToken}` },
            });
            const text = await response.text();
            const job = JSON.parse(text) as { sources: { lastError?: string }[] };
            if (!job.sources.some((source) => source.lastError !== undefined)) {
              throw new Error(`no source error in /api/job yet: ${text}`);
            }
            return text;
          },
          { timeout: 120_000, interval: 50 },
        );
      } finally {
        await child.stop();
      }
      const exit = await child.exited;
      const output = `${exit.stdout}\n${exit.stderr}`;
      printed.push({ command: "sluice run leaky-source.ts (with the UI)", text: output });
      printed.push({ command: "GET /api/job", text: api });

      const lastError = (JSON.parse(api) as { sources: { lastError?: string }[] }).sources.find(
        (source) => source.lastError !== undefined,
      )?.lastError;
      expect(lastError).toContain(`leaky cannot reach ${url} sending [redacted] and [redacted]`);
      expect(leaksIn(api)).toEqual([]);

      // The status line's note of the failure (plain lines: stderr is not a terminal).
      const note = exit.stderr.split("\n").find((line) => /^source \S+: cannot connect/.test(line));
      expect(note, output).toContain(`leaky cannot reach ${url} sending [redacted] and [redacted]`);
      expect(leaksIn(note ?? "")).toEqual([]);

      // What the connector logged itself, at info and warn level.
      const logged = exit.stderr
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { level: number; msg?: string });
      const connecting = logged.find((line) => line.msg?.startsWith("leaky connecting"));
      const sends = logged.find((line) => line.msg?.startsWith("leaky sends"));
      expect(connecting, output).toMatchObject({
        level: 30,
        msg: `leaky connecting to ${url}`,
        url,
      });
      expect(sends, output).toMatchObject({
        level: 40,
        msg: "leaky sends [redacted] and [redacted]",
        quoted: ["[redacted]", "[redacted]"],
      });
      expect(leaksIn(output)).toEqual([]);
    },
  );

  it(
    "sluice run under local[2]: the executors' log lines and a function's error there show no secret",
    PROCESS_TESTS,
    async () => {
      // Sends a few lines, one the job's function fails on, then closes.
      const server = createServer((socket) => socket.end("alpha\nbeta\nleak\ngamma\n"));
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      try {
        const address = server.address();
        if (address === null || typeof address === "string") throw new Error("no port");
        const file = await config("on-executors.yaml", [
          "job:",
          `  port: ${address.port}`,
          "  api:",
          `    url: "https://app:${SECRETS.executorUrlPassword}@api.example"`,
          "    header: ${env:SLUICE_LEAK_TEST_HEADER}",
          `    password: ${SECRETS.executorSinkPassword}`,
        ]);
        const { code, output } = await sluice([
          "run",
          job("on-executors.ts"),
          "--config",
          file,
          "--master",
          "local[2]",
          "--batch",
          "200ms",
        ]);
        expect(code, output).toBe(1);
        // The executors (threads other than 0) built the job's connectors and logged them; a
        // reference's value, which only the config said was secret, is hidden there too.
        const shown = "https://[redacted]@api.example sending [redacted]";
        expect(output).toMatch(
          new RegExp(`"api sink for ${escapeRegExp(shown)} \\(thread [1-9]\\d*\\)"`),
        );
        expect(output).toMatch(
          /"header":"\[redacted\]","password":"\[redacted\]"\},"msg":"sink created"/,
        );
        // The function failed on an executor, quoting the job's args.
        expect(output).toMatch(
          /^sluice: .*on thread [1-9]\d*: cannot call https:\/\/\[redacted\]@api\.example with \[redacted\] and \[redacted\]/m,
        );
        expect(leaksIn(output)).toEqual([]);
      } finally {
        server.close();
      }
    },
  );

  it("sluice connectors: a config with references shows no secret", PROCESS_TESTS, async () => {
    const { code, output } = await sluice(["connectors", "--config", await goodBrokers()]);
    expect(code, output).toBe(0);
    expect(output).toContain("sink file");
    expect(leaksIn(output)).toEqual([]);
  });
});

describe("what a run keeps on disk", () => {
  let server: Server;
  beforeAll(async () => {
    // Sends a few lines, one the job fails on, then closes: the socket source ends the input.
    server = createServer((socket) => socket.end("alpha\nbad-record\nbeta\n"));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
  });
  afterAll(async () => {
    server.close();
  });

  it(
    "holds no config secret, and is private (files 0600, folders 0700)",
    PROCESS_TESTS,
    async () => {
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      const [checkpoint, output, deadLetters] = ["checkpoint", "output", "dead-letters"].map(
        (name) => join(root, "run", name),
      ) as [string, string, string];
      const file = await config("at-rest.yaml", [
        "job:",
        `  port: ${address.port}`,
        `  output: ${output}`,
        `  deadLetters: ${deadLetters}`,
        "  vault:",
        `    url: "https://app:${SECRETS.vaultUrlPassword}@vault.example:8200"`,
        "    username: ${env:SLUICE_LEAK_TEST_USER}",
        "    password: ${env:SLUICE_LEAK_TEST_PASSWORD}",
        "    tls:",
        "      cert: ${file:client-cert.pem}",
        "      key: ${file:client-key.pem}",
      ]);
      const { code, output: printedText } = await sluice([
        "run",
        job("at-rest.ts"),
        "--config",
        file,
        "--checkpoint",
        checkpoint,
        "--batch",
        "200ms",
      ]);
      expect(code, printedText).toBe(0);
      expect(printedText).toContain('"msg":"vault connected"');
      expect(printedText).toContain('"msg":"sink created"');
      expect(leaksIn(printedText)).toEqual([]);

      const written = await filesUnder(join(root, "run"));
      const names = [...written.keys()];
      // The run wrote what the test means to search: checkpoints, the log's folder, dead letters.
      expect(names.some((name) => /^checkpoint\/checkpoint-\d+\.ckpt$/.test(name))).toBe(true);
      expect(names).toContain("checkpoint/wal");
      const deadLetterFiles = names.filter((name) => name.startsWith("dead-letters/"));
      expect(deadLetterFiles.length).toBeGreaterThan(0);
      let deadLetterText = "";
      for (const [name, entry] of written) {
        if (entry.directory) continue;
        const content = await readFile(join(root, "run", name), "latin1");
        expect({ name, leaks: leaksIn(content) }).toEqual({ name, leaks: [] });
        if (name.startsWith("dead-letters/")) deadLetterText += content;
      }
      expect(deadLetterText).toContain("bad-record");
      // The log's active segment stays: it holds the records received (payloads, as documented),
      // which shows the search above went through it.
      const segments = names.filter((name) =>
        /^checkpoint\/wal\/[^/]+\/segment-\d+\.wal$/.test(name),
      );
      expect(segments.length).toBeGreaterThan(0);
      let logText = "";
      for (const name of segments) logText += await readFile(join(root, "run", name), "latin1");
      expect(logText).toContain("alpha");

      for (const [name, entry] of written) {
        if (!name.startsWith("checkpoint") && !name.startsWith("dead-letters")) continue;
        expect({ name, mode: entry.mode.toString(8) }).toEqual({
          name,
          mode: entry.directory ? "700" : "600",
        });
      }
    },
  );

  it("printed nothing secret in any command of this file", () => {
    expect(printed.length).toBeGreaterThan(0);
    for (const { command, text } of printed) {
      expect({ command, leaks: leaksIn(text) }).toEqual({ command, leaks: [] });
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The UI's address as `sluice run` prints it (`UI at http://…/`), waiting until it does. */
function printedUiAddress(child: SluiceProcess): Promise<string> {
  return vi.waitFor(
    () => {
      const address = /^UI at (http:\/\/\S+\/) /m.exec(child.stderr)?.[1];
      if (address === undefined) throw new Error(`no UI address printed yet\n${child.describe()}`);
      return address;
    },
    { timeout: 120_000, interval: 50 },
  );
}

/** Every file and folder under `folder`, by path relative to it, with its mode. */
async function filesUnder(
  folder: string,
): Promise<Map<string, { readonly directory: boolean; readonly mode: number }>> {
  const entries = new Map<string, { directory: boolean; mode: number }>();
  for (const name of await readdir(folder, { recursive: true })) {
    const info = await stat(join(folder, name));
    entries.set(name, { directory: info.isDirectory(), mode: info.mode & 0o777 });
  }
  return entries;
}
