import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const binary = `${root}target/release/examples/bench_limit`;

/** What one run of the Rust limit reports. */
export interface LimitResult {
  readonly ns: number;
  readonly rows: number;
  readonly nsPerRow: number;
  readonly checksum: string;
  readonly emitNsPerRow?: number;
  readonly emittedRows?: number;
}

/** Builds the limit binary (the engine's kernels without N-API) in release mode. */
export function buildRustLimit(): void {
  execFileSync(
    "cargo",
    ["build", "--release", "--quiet", "-p", "sluice-engine", "--example", "bench_limit"],
    {
      cwd: root,
      stdio: "inherit",
    },
  );
}

/** Runs the limit binary once (it warms up, then times one run) and parses its JSON line. */
export function runRustLimit(args: readonly string[]): LimitResult {
  const out = execFileSync(binary, args, { encoding: "utf8", maxBuffer: 1 << 20 });
  return JSON.parse(out.trim()) as LimitResult;
}
