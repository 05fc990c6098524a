/**
 * How long a connection with heartbeats every `intervalSeconds` can be dead before its client
 * notices: two missed intervals (AMQP closes after two missed heartbeats; an MQTT client gives up
 * on a ping unanswered by the next one), plus half a minute for a loaded process. With heartbeats
 * off (0) only TCP notices, once its retransmissions give up: about 15 minutes on Linux's
 * defaults (`tcp_retries2` = 15), so 16.
 *
 * @example
 * deadConnectionTimeoutMs(30); // 90_000
 */
export function deadConnectionTimeoutMs(intervalSeconds: number): number {
  if (!(intervalSeconds > 0)) return TCP_DEAD_CONNECTION_MS;
  return 2 * intervalSeconds * 1000 + 30_000;
}

/** How long TCP alone takes to notice a dead peer (see `deadConnectionTimeoutMs`). */
export const TCP_DEAD_CONNECTION_MS = 16 * 60_000;
