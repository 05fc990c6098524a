// A sink write cut off by a stop without draining while the server holds the connection open and
// answers nothing: the write is out, through a proxy the test silenced, and waits for answers.
import type { Sink, SinkRecord, WriteBatchContext } from "sluice/connector";
import type { CuttableProxy } from "./cuttable-proxy.js";
import { stoppableWrite } from "./stoppable-write.js";

/**
 * Silences `proxy`, writes `records` with `context` through `sink` (connected through the
 * proxy) and, once the proxy holds what the write sent, ends it as a stop without draining
 * would; resolves with how the write ended (see stoppableWrite). The proxy stays silenced.
 *
 * @example
 * const failure = await writeStoppedWhileSilenced(sink, proxy, records, context);
 * expect(failure).toMatchObject({ code: "SLUICE_CONNECTOR_IO" });
 */
export async function writeStoppedWhileSilenced(
  sink: Sink,
  proxy: CuttableProxy,
  records: readonly SinkRecord[],
  context: WriteBatchContext,
): Promise<unknown> {
  proxy.silence();
  const { stop, outcome } = stoppableWrite(sink, records, context);
  await proxy.until((counts) => counts.swallowed >= 1);
  stop.abort(new Error("the StreamingContext is stopping without draining"));
  return outcome;
}
