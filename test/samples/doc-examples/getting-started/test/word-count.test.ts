// The example of docs/getting-started.md, as printed there (test/samples/doc-examples.test.ts keeps them equal);
// `npm run typecheck` compiles it, and vitest runs it as the page says.
import { runBatches } from "sluice/testing";
import { expect, it } from "vitest";
import { countWords } from "../jobs/word-count.js";

it("counts the words of each batch", async () => {
  const output = await runBatches(
    { inputs: [[["to be or not to be"], [], ["be"]]], numPartitions: 1 },
    countWords,
  );
  expect(output).toEqual([
    [
      ["to", 2],
      ["be", 2],
      ["or", 1],
      ["not", 1],
    ],
    [],
    [["be", 1]],
  ]);
});
