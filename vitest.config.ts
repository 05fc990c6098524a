import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const fromRoot = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// Tests import the packages by their public names; the aliases point those names at the
// TypeScript sources so the suite runs without a prior build.
export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^sluice\/testing\/conformance$/,
        replacement: fromRoot("./core/src/testing/conformance/index.ts"),
      },
      { find: /^sluice\/testing$/, replacement: fromRoot("./core/src/testing/index.ts") },
      { find: /^sluice\/connector$/, replacement: fromRoot("./core/src/connector/index.ts") },
      { find: /^sluice\/advanced$/, replacement: fromRoot("./core/src/advanced.ts") },
      { find: /^sluice$/, replacement: fromRoot("./core/src/index.ts") },
    ],
  },
  test: {
    include: [
      "core/test/**/*.test.ts",
      "connectors/*/test/**/*.test.ts",
      "samples/*/test/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    typecheck: {
      enabled: true,
      include: ["test/types/**/*.test-d.ts"],
      tsconfig: "./test/types/tsconfig.json",
    },
  },
});
