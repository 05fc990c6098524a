import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { ISocketFactory } from "kafkajs";

/**
 * The `code` of the socket error raised when a server answered bytes that kafkajs cannot read
 * as Kafka responses (the `brokers` setting names a port of another server).
 */
export const NOT_KAFKA_CODE = "ERR_SLUICE_NOT_KAFKA_PROTOCOL";

const KEEP_ALIVE_DELAY_MS = 60_000;

type Listener = (...args: unknown[]) => void;

/**
 * kafkajs's socket factory, with one change: kafkajs decodes a connection's bytes inside the
 * socket's `data` listener, where an answer that is not Kafka's protocol (a Cassandra or HTTP
 * port given as a broker) throws out of the event loop and ends the process. Such a throw ends
 * the connection instead, with a socket error whose `code` is `NOT_KAFKA_CODE`, which kafkajs
 * reports as a connection error carrying that code.
 *
 * @example
 * new Kafka({ brokers, socketFactory: guardedSocketFactory() });
 */
export function guardedSocketFactory(): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const socket: Socket = ssl
      ? tlsConnect(
          { host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...ssl },
          onConnect,
        )
      : netConnect({ host, port }, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
    const on = socket.on.bind(socket) as (event: string | symbol, listener: Listener) => Socket;
    const guardedOn = (event: string | symbol, listener: Listener): Socket => {
      if (event !== "data") return on(event, listener);
      return on(event, (...args: unknown[]) => {
        try {
          listener(...args);
        } catch (error) {
          socket.destroy(notKafka(host, port, error));
        }
      });
    };
    Object.defineProperty(socket, "on", { value: guardedOn });
    return socket;
  };
}

function notKafka(host: string, port: number, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return Object.assign(
    new Error(`${host}:${port} answered with bytes that are not Kafka's protocol (${reason})`, {
      cause: error,
    }),
    { code: NOT_KAFKA_CODE },
  );
}
