#!/usr/bin/env node
// Builds the native addon when a Rust toolchain is present. Without cargo the build still
// succeeds: Sluice then runs on its TypeScript kernels, which give the same results.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const bindingDir = fileURLToPath(new URL("../native/binding/", import.meta.url));
const cargo = spawnSync("cargo", ["--version"], { stdio: "ignore" });
if (cargo.error || cargo.status !== 0) {
  console.log("cargo not found: skipping the native addon; the TypeScript kernels will serve.");
  process.exit(0);
}
const build = spawnSync("npx", ["napi", "build", "--platform", "--release"], {
  cwd: bindingDir,
  stdio: "inherit",
});
process.exit(build.status ?? 1);
