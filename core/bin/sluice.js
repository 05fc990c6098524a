#!/usr/bin/env node
// The `sluice` command. An installed package runs its compiled CLI; a checkout of the Sluice
// repository (which has the TypeScript sources) runs those through tsx, so no build is needed.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = new URL("../src/cli/main.ts", import.meta.url);
const compiled = new URL("../dist/cli/main.js", import.meta.url);

let entry = compiled;
if (existsSync(source)) {
  // The workspace's tsconfig (decorators, and `sluice` mapped to the sources) wherever it runs.
  const { register } = await import("tsx/esm/api");
  register({ tsconfig: fileURLToPath(new URL("../../tsconfig.json", import.meta.url)) });
  globalThis.__sluiceTypeScriptRegistered = true;
  entry = source;
} else if (!existsSync(compiled)) {
  console.error("sluice: the CLI is not built; run `npm run build` in the sluice package");
  process.exit(1);
}
const { main, processIo } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2), processIo());
