// A job for the UI and metrics tests: reads lines from a TCP server (the socket source) and
// runs two output operations per batch: the lines upper-cased on stdout, and a count per batch.
import { defineJob } from "sluice";

interface SocketLinesArgs {
  readonly host: string;
  readonly port: number;
}

export default defineJob<SocketLinesArgs>((ctx, args) => {
  const lines = ctx.socketTextStream(args.host, args.port);
  lines.map((line) => line.toUpperCase()).print(1000);
  lines.count().foreachBatch(() => {});
});
