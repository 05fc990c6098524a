// The job the observability benchmark watches: words of the lines a TCP server sends, counted
// per batch with a named reduction, so it runs at the rate flow control finds sustainable.
import { defineJob } from "sluice";

interface WordsArgs {
  readonly port: number;
}

export default defineJob<WordsArgs>((ctx, args) => {
  ctx
    .socketTextStream("127.0.0.1", args.port)
    .flatMap((line) => line.split(" "))
    .map((word): [string, number] => [word, 1])
    .reduceByKey("sum")
    .foreachBatch(() => {});
});
