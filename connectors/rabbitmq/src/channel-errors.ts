import { NotConnectedError, SluiceError } from "sluice/connector";

/**
 * Turns the failure of a channel operation while setting up (declaring or checking a queue or
 * exchange, binding, consuming) into a Sluice error: a refusal of the broker is fatal
 * (`SLUICE_CONNECTOR_REFUSED`) and says what to change; a lost connection is `NotConnectedError`.
 *
 * @example
 * throw explainChannelError(error, "RabbitMQ at 127.0.0.1:5672", 'declaring queue "orders"', hints);
 */
export function explainChannelError(
  error: unknown,
  at: string,
  doing: string,
  hints: { readonly notFound?: string; readonly mismatch?: string } = {},
): SluiceError {
  const reason = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const refused = (what: string) =>
    new SluiceError("SLUICE_CONNECTOR_REFUSED", `${at} refused ${doing}: ${what} (${reason})`, {
      cause: error,
    });
  if (code === 404 || /NOT.FOUND/.test(reason)) {
    return refused(hints.notFound ?? "it does not exist");
  }
  if (code === 406 || /PRECONDITION.FAILED/.test(reason)) {
    return refused(
      hints.mismatch ?? "it exists with other settings; use the same settings or another name",
    );
  }
  if (code === 403 || /ACCESS.REFUSED/.test(reason)) {
    return refused("the user lacks the permission; grant it with rabbitmqctl set_permissions");
  }
  return new NotConnectedError(`${at}: the connection was lost while ${doing} (${reason})`, {
    cause: error,
  });
}
