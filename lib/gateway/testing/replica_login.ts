/**
 * Logs a replica user in at the replica's Keycloak with `OidcAuth.password`, the way a script
 * against DEDL would.
 * @module
 */
import { OidcAuth } from "../../auth/mod.ts";
import { readEndpoints } from "../../../tests/replica/endpoints.ts";

/** Logs in the replica user at `index` of the endpoints file (0 = alice, 1 = bob). */
export async function replicaLogin(index = 0): Promise<OidcAuth> {
  const ep = await readEndpoints();
  const user = ep.users[index];
  return await OidcAuth.password({
    issuer: ep.issuer,
    clientId: ep.client_id,
    username: user.username,
    password: user.password,
  });
}
