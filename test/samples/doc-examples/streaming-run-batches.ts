// The example of docs/streaming.md (Testing), as printed there (test/samples/doc-examples.test.ts keeps them equal);
// `npm run typecheck` compiles it as a user's job would be.
import { runBatches } from "sluice/testing";

const output = await runBatches(
  { inputs: [[["a", "b", "a"], [], null, ["b"]]], numPartitions: 1 },
  (words) => words.map((w) => [w, 1]).reduceByKey("sum"),
);

// [[["a", 2], ["b", 1]], [], [["b", 1]]] — the null batch produced no output
export { output };
