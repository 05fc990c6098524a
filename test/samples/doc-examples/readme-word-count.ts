// The example of README.md (Concepts in one screen), as printed there (test/samples/doc-examples.test.ts keeps them equal);
// `npm run typecheck` compiles it as a user's job would be.
import { defineJob } from "sluice";

// jobs/word-count.ts — run with: npx sluice run jobs/word-count.ts --batch 1s --master 'local[2]'
export default defineJob((ctx) => {
  ctx
    .socketTextStream("localhost", 9999) // an input DStream: one batch of lines per interval
    .flatMap((line) => line.split(" ")) // transformations, as in Spark
    .map((word) => [word, 1]) // a stream of [key, value] pairs...
    .reduceByKeyAndWindow((a, b) => a + b, { window: "30s", slide: "10s" }) // ...pair operations
    .print(); // an output operation: runs for every batch
});
