import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const libSh = fileURLToPath(new URL("../../scripts/services/lib.sh", import.meta.url));
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratchFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-cluster-id-"));
  dirs.push(dir);
  return join(dir, ".cluster-id");
}

/** Runs `kafka_cluster_id` from lib.sh `times` times over one file, each time after `before`. */
function clusterIds(file: string, times: number, before = ""): string[] {
  const script = `source "$1"; for ((i = 0; i < ${times}; i++)); do ${before} kafka_cluster_id "$2"; echo; done`;
  const out = execFileSync("bash", ["-c", script, "bash", libSh, file], { encoding: "utf8" });
  return out.split("\n").filter((line) => line.length > 0);
}

describe("kafka_cluster_id (scripts/services/lib.sh)", () => {
  it("never hands the storage tool an id that starts with '-'", () => {
    // A base64url id starts with '-' one time in 64; 1 000 fresh draws meet one with
    // probability 1 - (63/64)^1000, above 0.999999, so a generator that lets it through fails here.
    const file = scratchFile();
    const ids = clusterIds(file, 1000, `rm -f "$2";`);
    expect(ids).toHaveLength(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
    expect(new Set(ids).size).toBe(1000);
  });

  it("keeps a usable id once written", () => {
    const file = scratchFile();
    writeFileSync(file, "EvlcSZoz7GdGQhleLx6LGQ");
    expect(clusterIds(file, 3)).toEqual(Array(3).fill("EvlcSZoz7GdGQhleLx6LGQ"));
  });

  it("replaces a kept id that starts with '-'", () => {
    const file = scratchFile();
    writeFileSync(file, "-vlcSZoz7GdGQhleLx6LGQ");
    const [id] = clusterIds(file, 1);
    expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(readFileSync(file, "utf8")).toBe(id);
  });
});
