import { errors, types } from "cassandra-driver";
import { SluiceError, tlsRefused } from "sluice/connector";
import { reasonOf, serverReply } from "./cassandra-client.js";

function authenticationFailure(error: unknown): errors.AuthenticationError | undefined {
  if (error instanceof errors.AuthenticationError) return error;
  if (!(error instanceof errors.NoHostAvailableError)) return undefined;
  return Object.values((error.innerErrors ?? {}) as Record<string, unknown>).find(
    (cause): cause is errors.AuthenticationError => cause instanceof errors.AuthenticationError,
  );
}

// The driver refuses a localDataCenter none of the nodes is in with an ArgumentError, inside
// "no host available" like an unreachable node: retrying never helps.
function dataCentreMismatch(error: unknown): errors.ArgumentError | undefined {
  const causes =
    error instanceof errors.NoHostAvailableError
      ? Object.values((error.innerErrors ?? {}) as Record<string, unknown>)
      : [error];
  return causes.find(
    (cause): cause is errors.ArgumentError =>
      cause instanceof errors.ArgumentError && /localDataCenter/.test(cause.message),
  );
}

/**
 * Why Cassandra refused a client while connecting or setting up, as a `SLUICE_CONNECTOR_REFUSED`
 * error naming the setting to fix: a failed TLS handshake (`tls.ca`, `tls.servername`, ...), a
 * refused login (`credentials`), a data centre no node is in (`localDataCenter`), or a missing
 * permission (the role, the permission and the resource, as Cassandra names them). Undefined for
 * anything else. Never holds the password: the driver's messages name only the role.
 *
 * @example
 * throw connectRefusal(error, ["127.0.0.1:9242"], "the sink") ?? unreachable(error);
 */
export function connectRefusal(
  error: unknown,
  contactPoints: readonly string[],
  what: string,
): SluiceError | undefined {
  const at = `Cassandra at ${contactPoints.join(", ")}`;
  const tls = tlsRefused(error, at);
  if (tls !== undefined) return tls;
  const login = authenticationFailure(error);
  if (login !== undefined) {
    return new SluiceError(
      "SLUICE_CONNECTOR_REFUSED",
      `${at} refused the login of ${what} (${login.message}). Check "credentials.username" and "credentials.password" ("credentials" is required when the node uses PasswordAuthenticator).`,
      { cause: error },
    );
  }
  const dataCentre = dataCentreMismatch(error);
  if (dataCentre !== undefined) {
    const found = /data centers: \[([^\]]*)\]/.exec(dataCentre.message)?.[1];
    return new SluiceError(
      "SLUICE_CONNECTOR_REFUSED",
      `${at} refused ${what}: no node is in the data centre set as "localDataCenter" (${dataCentre.message}). Set "localDataCenter" to ${found === undefined ? "the data centre of the nodes" : `one of: ${found}`} (as \`nodetool status\` names it).`,
      { cause: error },
    );
  }
  const reply = serverReply(error);
  if (
    reply instanceof errors.ResponseError &&
    reply.code === types.responseErrorCodes.unauthorized
  ) {
    return new SluiceError(
      "SLUICE_CONNECTOR_REFUSED",
      `${at} refused ${what} a permission: ${reasonOf(reply)}. Grant it to the role (GRANT <permission> ON <resource> TO <role>), or use a role that has it.`,
      { cause: error },
    );
  }
  return undefined;
}
