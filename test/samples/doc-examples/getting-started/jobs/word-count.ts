// The example of docs/getting-started.md, as printed there (test/samples/doc-examples.test.ts keeps them equal);
// `npm run typecheck` compiles it as a user's job would be.
import { type DStream, defineJob } from "sluice";

/** The words of every batch of lines, counted. */
export function countWords(lines: DStream<string>) {
  return lines
    .flatMap((line) => line.split(" "))
    .filter((word) => word !== "")
    .map((word) => [word, 1])
    .reduceByKey((a, b) => a + b);
}

export default defineJob((ctx) => {
  countWords(ctx.textFileStream("in")).print(); // the lines of each file moved into ./in
});
