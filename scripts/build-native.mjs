#!/usr/bin/env node
// Builds the native addon when a Rust toolchain is present. Without cargo the build still
// succeeds: Sluice then runs on its TypeScript kernels, which give the same results.
//
// The built `.node` file stays beside the generated loader (native/binding), where the loader
// looks first, so the repository's own tests use it; it is also copied into its platform
// package, npm/<triple>/ (the napi-rs layout, what `napi artifacts` does with CI artifacts),
// ready for `npm pack` or `npm publish` of `@sluice/native-<triple>`.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
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
if (build.status !== 0) process.exit(build.status ?? 1);

const npmDir = join(bindingDir, "npm");
for (const triple of readdirSync(npmDir)) {
  const manifest = join(npmDir, triple, "package.json");
  if (!existsSync(manifest)) continue;
  const { name, main } = JSON.parse(readFileSync(manifest, "utf8"));
  const built = join(bindingDir, main);
  // Only this machine's target is built; other platform packages are filled by their builds.
  if (!existsSync(built)) continue;
  copyFileSync(built, join(npmDir, triple, main));
  console.log(`copied ${main} into ${name} (native/binding/npm/${triple})`);
}
