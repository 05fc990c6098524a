import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The conformance kit waits for records with its own timeouts; a case may take a while on a
    // busy machine.
    testTimeout: 60_000,
  },
});
