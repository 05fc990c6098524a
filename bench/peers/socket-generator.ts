/**
 * The socket run's source: a TCP server on 127.0.0.1 that sends a file's bytes to the first
 * client as fast as it reads them, then closes the connection (later connections, such as a
 * receiver reconnecting, are closed at once). Its own process, so that it takes no time from a
 * contender running inside the benchmark. Prints `{"port"}` when listening and `{"startMs"}`
 * (wall clock, ms) when it starts sending; the benchmark ends it.
 *   socket-generator.ts <file> [<interval_ms> <phase_ms>]
 * With an interval and a phase, it starts sending once the wall clock is `phase_ms` past a
 * multiple of `interval_ms`: the streaming contenders cut batches at those multiples, so the
 * phase sets where the data falls between two batch boundaries, instead of each contender's
 * start-up time.
 */
import { readFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";

const data = readFileSync(process.argv[2] as string);
const interval = Number(process.argv[3] ?? 0);
const phase = Number(process.argv[4] ?? 0);
const CHUNK = 64 * 1024;
let served = false;
const server = createServer((socket) => {
  if (served) {
    socket.destroy();
    return;
  }
  served = true;
  socket.on("error", () => {});
  const now = Date.now();
  const wait = interval > 0 ? (((phase - (now % interval)) % interval) + interval) % interval : 0;
  setTimeout(() => send(socket), wait);
});

function send(socket: Socket): void {
  process.stdout.write(
    `${JSON.stringify({ startMs: performance.timeOrigin + performance.now() })}\n`,
  );
  let offset = 0;
  const pump = (): void => {
    while (offset < data.length) {
      const chunk = data.subarray(offset, offset + CHUNK);
      offset += chunk.length;
      if (!socket.write(chunk)) {
        socket.once("drain", pump);
        return;
      }
    }
    socket.end();
  };
  pump();
}
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
