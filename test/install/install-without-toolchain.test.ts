// Installing Sluice needs no Rust toolchain: the tarballs of `sluice`, `@sluice/native` and the
// prebuilt `@sluice/native-linux-x64-gnu` install into an empty project with cargo absent from
// PATH, and a word count run with the installed `sluice` command uses the native kernels.
// Without the platform package (an unsupported platform: npm skips the optional dependency it
// cannot find) the same job runs on the TypeScript twin and counts the same.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  installProject,
  type ProcessResult,
  packPackages,
  requireBuiltPackages,
  runProcess,
  type Tarballs,
  toolchainFreeEnv,
} from "./install-harness.js";

const JOB = fileURLToPath(new URL("./word-count-job.mjs", import.meta.url));
const NATIVE_CHOICE = "native kernels (@sluice/native)";
const LINES = 200;

// Words with multi-byte UTF-8 among them, so the kernels hash and group real byte strings.
const VOCABULARY = ["stream", "batch", "window", "café", "Straße", "naïve", "river", "key", "søn"];

/** The input: LINES lines of ten words, the mix shifting from line to line. */
function inputText(): string {
  const lines: string[] = [];
  for (let line = 0; line < LINES; line++) {
    const words: string[] = [];
    for (let position = 0; position < 10; position++) {
      words.push(VOCABULARY[(line * 7 + position * 3 + (line % 4)) % VOCABULARY.length] ?? "");
    }
    lines.push(words.join(separatorOf(line)));
  }
  return `${lines.join("\n")}\n`;
}

/** Spaces and tabs alternate between words, as text files mix them. */
function separatorOf(line: number): string {
  return line % 3 === 0 ? "\t" : " ";
}

/** The ground truth, counted here rather than by Sluice. */
function expectedCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.split(/[ \t\n]+/)) {
    if (word !== "") counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

/** The job's per-batch `count <word> <n>` lines added up, sorted by word. */
function totalsOf(stdout: string): [string, number][] {
  const totals = new Map<string, number>();
  for (const [, word = "", count = "0"] of stdout.matchAll(/^count (\S+) (\d+)$/gm)) {
    totals.set(word, (totals.get(word) ?? 0) + Number(count));
  }
  return sorted(totals);
}

function sorted(counts: Map<string, number>): [string, number][] {
  return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The kernels' choice every thread logged (pino JSON lines on stderr, field `kernels`). */
function kernelChoices(stderr: string): string[] {
  const choices: string[] = [];
  for (const line of stderr.split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as { kernels?: unknown };
    if (typeof entry.kernels === "string") choices.push(entry.kernels);
  }
  return choices;
}

let root: string;
let tarballs: Tarballs;
let input: string;
const text = inputText();

/** Installs `packages` into a new project and runs the word count there with `sluice run`. */
async function installAndRun(
  name: string,
  packages: readonly string[],
): Promise<{ project: string; run: ProcessResult }> {
  const project = join(root, name);
  await mkdir(project);
  await installProject(project, packages);
  await copyFile(JOB, join(project, "word-count.mjs"));
  const run = await runProcess(
    join(project, "node_modules", ".bin", "sluice"),
    [
      "run",
      "word-count.mjs",
      "--master",
      "local[2]",
      "--batch",
      "200ms",
      "--set",
      `job.input=${input}`,
    ],
    { cwd: project, env: toolchainFreeEnv(), timeoutMs: 60_000 },
  );
  return { project, run };
}

beforeAll(async () => {
  requireBuiltPackages();
  root = await mkdtemp(join(tmpdir(), "sluice-install-"));
  await mkdir(join(root, "packs"));
  tarballs = await packPackages(join(root, "packs"));
  input = join(root, "input");
  await mkdir(input);
  await writeFile(join(input, "words.txt"), text);
  await writeFile(join(input, "_DONE"), "");
}, 120_000);

afterAll(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe("installing the packed tarballs without a Rust toolchain", () => {
  it("has no cargo on the PATH the installs and jobs run with", () => {
    const cargo = spawnSync("cargo", ["--version"], { env: toolchainFreeEnv() });
    expect((cargo.error as NodeJS.ErrnoException | undefined)?.code).toBe("ENOENT");
  });

  let nativeTotals: [string, number][] = [];

  it("runs a word count on the native kernels from @sluice/native-linux-x64-gnu", async () => {
    const { project, run } = await installAndRun("with-platform-package", [
      tarballs.sluice,
      tarballs.native,
      tarballs.platform,
    ]);
    // The addon can only have come from the platform package: @sluice/native ships none.
    const modules = join(project, "node_modules", "@sluice");
    expect(readdirSync(join(modules, "native")).filter((file) => file.endsWith(".node"))).toEqual(
      [],
    );
    expect(
      existsSync(join(modules, "native-linux-x64-gnu", "sluice-native.linux-x64-gnu.node")),
    ).toBe(true);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      new RegExp(`^word-count: stopped after \\d+ batches, ${LINES} records in, \\d+ out$`, "m"),
    );
    const choices = kernelChoices(run.stderr);
    // One line per executor thread, each choosing the addon from the platform package.
    expect(choices.length, run.stderr).toBeGreaterThanOrEqual(1);
    expect(new Set(choices)).toEqual(new Set([NATIVE_CHOICE]));
    nativeTotals = totalsOf(run.stdout);
    expect(nativeTotals).toEqual(sorted(expectedCounts(text)));
  }, 240_000);

  it("runs the same job on the TypeScript kernels without the platform package, counting the same", async () => {
    const { project, run } = await installAndRun("without-platform-package", [
      tarballs.sluice,
      tarballs.native,
    ]);
    expect(existsSync(join(project, "node_modules", "@sluice", "native-linux-x64-gnu"))).toBe(
      false,
    );

    expect(run.code, run.stderr).toBe(0);
    const choices = kernelChoices(run.stderr);
    expect(choices.length, run.stderr).toBeGreaterThanOrEqual(1);
    for (const choice of choices) {
      expect(choice).toMatch(/^TypeScript kernels \(@sluice\/native did not load: /);
    }
    const totals = totalsOf(run.stdout);
    expect(totals).toEqual(sorted(expectedCounts(text)));
    expect(totals).toEqual(nativeTotals);
  }, 240_000);
});
