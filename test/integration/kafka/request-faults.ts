// Faults at the Kafka protocol level for the integration suites: the sockets kafkajs opens
// through the connectors' socket factory (`guardedSocketFactory`) can be told to drop the
// connection at the next request of one kind, before the request leaves (the broker never
// sees it) or once its answer arrives (the broker did it; the client never hears).
import type { Socket } from "node:net";
import type { ISocketFactory } from "kafkajs";

/** Kafka API keys of the requests a fault can target. */
export const API_KEYS = {
  Produce: 0,
  EndTxn: 26,
  TxnOffsetCommit: 28,
  AddOffsetsToTxn: 25,
} as const;

/** Where the connection drops: before the request is sent, or when its answer arrives. */
export type FaultPoint = "request lost" | "answer lost";

interface ArmedFault {
  readonly apiKey: number;
  readonly point: FaultPoint;
  /** Requests of that kind still to fail. */
  left: number;
}

let armed: ArmedFault | undefined;
let fired = 0;

/**
 * Drops the connection at each of the next `times` requests with `apiKey` (on any socket).
 *
 * @example
 * armFault(API_KEYS.EndTxn, "answer lost");
 */
export function armFault(apiKey: number, point: FaultPoint, times = 1): void {
  armed = { apiKey, point, left: times };
}

/** Requests go through again. */
export function disarmFaults(): void {
  armed = undefined;
}

/** How many armed faults have fired so far. */
export function faultsFired(): number {
  return fired;
}

/**
 * Wraps a socket factory so that its sockets obey `armFault`. A request is one write of a
 * size-prefixed frame whose header starts with the API key (kafkajs writes each request whole).
 *
 * @example
 * const factory = faultySocketFactory(guardedSocketFactory());
 */
export function faultySocketFactory(inner: ISocketFactory): ISocketFactory {
  return (args) => {
    const socket = inner(args) as Socket;
    let dropNextAnswer = false;
    const write = socket.write.bind(socket) as (...written: unknown[]) => boolean;
    const patchedWrite = (...written: unknown[]): boolean => {
      const [chunk] = written;
      const fault = armed;
      if (fault !== undefined && Buffer.isBuffer(chunk) && chunk.length >= 6) {
        if (chunk.readInt16BE(4) === fault.apiKey) {
          fault.left--;
          if (fault.left <= 0) armed = undefined;
          fired++;
          if (fault.point === "request lost") {
            socket.destroy(Object.assign(new Error("connection reset"), { code: "ECONNRESET" }));
            return false;
          }
          dropNextAnswer = true;
        }
      }
      return write(...written);
    };
    socket.write = patchedWrite as Socket["write"];
    // The factory's own wrapper owns `on`; answers are dropped where the socket emits them.
    const emit = socket.emit.bind(socket) as (
      event: string | symbol,
      ...args: unknown[]
    ) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
      if (event === "data" && dropNextAnswer) {
        dropNextAnswer = false;
        socket.destroy(Object.assign(new Error("connection reset"), { code: "ECONNRESET" }));
        return true;
      }
      return emit(event, ...args);
    }) as Socket["emit"];
    return socket;
  };
}
