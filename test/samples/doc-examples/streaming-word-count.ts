// The example of docs/streaming.md (the opening word count), as printed there (test/samples/doc-examples.test.ts keeps them equal);
// `npm run typecheck` compiles it as a user's job would be.
import { StreamingContext } from "sluice";

const ctx = new StreamingContext({ batchInterval: "1s", appName: "word-count" });
ctx
  .socketTextStream("localhost", 9999)
  .flatMap((line) => line.split(" "))
  .map((word) => [word, 1])
  .reduceByKey("sum")
  .print();
await ctx.start();
await ctx.awaitTermination();
