/**
 * The replica's DESP part: a `desp` realm playing the DestinE platform's identity provider
 * (`realm-desp.json`: users, the public client `dedl-hda`, one user with a TOTP second factor),
 * brokered by the `dedl` realm as identity provider `desp-oidc` (`realm-dedl.json`), whose public
 * client `hda-public` may exchange DESP access tokens for DEDL ones (external-to-internal token
 * exchange, Keycloak's legacy token exchange v1), and a service-account client `dedl-pipeline`.
 *
 * The realm files hold everything but the exchange permission, which Keycloak keeps as
 * fine-grained admin permissions (v1) on the identity provider; {@link allowTokenExchange} sets it
 * through the admin REST API after every start (idempotent).
 * @module
 */
import type { ReplicaEndpoints } from "./endpoints.ts";

/**
 * Keycloak features the DESP exchange needs: legacy token exchange (v1, preview), which alone
 * does external-to-internal exchange, and fine-grained admin permissions v1, where the
 * permission to exchange an identity provider's tokens lives.
 */
export const KEYCLOAK_FEATURES = "token-exchange,admin-fine-grained-authz:v1";

/** The identity provider alias DEDL uses for DESP (the `subject_issuer` of the exchange). */
export const DESP_IDP_ALIAS = "desp-oidc";

/** The `dedl` client DESP tokens are exchanged with (as destinelab does). */
export const EXCHANGE_CLIENT_ID = "hda-public";

/** The service-account client of the `dedl` realm. */
export const SERVICE_ACCOUNT_CLIENT_ID = "dedl-pipeline";

/** Name of the authorization policy that lets {@link EXCHANGE_CLIENT_ID} exchange. */
const EXCHANGE_POLICY = "hda-public may exchange DESP tokens";

/** The generated secrets of the DESP part, new at every start. */
export interface DespSecrets {
  carolPassword: string;
  davePassword: string;
  /** Dave's TOTP key, base32 (RFC 4648, no padding). */
  daveTotp: string;
  brokerSecret: string;
  serviceAccountSecret: string;
}

/** Fresh secrets; `secret()` is the replica's password generator. */
export function despSecrets(secret: () => string): DespSecrets {
  return {
    carolPassword: secret(),
    davePassword: secret(),
    daveTotp: base32(crypto.getRandomValues(new Uint8Array(20))),
    brokerSecret: secret(),
    serviceAccountSecret: secret(),
  };
}

/** The realm files' `${…}` placeholders, for Keycloak's environment. */
export function despKeycloakEnv(
  secrets: DespSecrets,
  issuer: string,
  despIssuer: string,
): Record<string, string> {
  return {
    DEDL_REPLICA_ISSUER: issuer,
    DEDL_REPLICA_DESP_ISSUER: despIssuer,
    DEDL_REPLICA_DESP_PASSWORD_CAROL: secrets.carolPassword,
    DEDL_REPLICA_DESP_PASSWORD_DAVE: secrets.davePassword,
    DEDL_REPLICA_DESP_TOTP_DAVE: secrets.daveTotp,
    DEDL_REPLICA_DESP_BROKER_SECRET: secrets.brokerSecret,
    DEDL_REPLICA_SERVICE_ACCOUNT_SECRET: secrets.serviceAccountSecret,
  };
}

/** The `desp` and `service_accounts` entries of `.replica/endpoints.json`. */
export function despEndpoints(
  secrets: DespSecrets,
  despIssuer: string,
): Pick<ReplicaEndpoints, "desp" | "service_accounts"> {
  return {
    desp: {
      issuer: despIssuer,
      users: [
        { username: "carol", password: secrets.carolPassword },
        { username: "dave", password: secrets.davePassword, totp_secret: secrets.daveTotp },
      ],
    },
    service_accounts: [
      { client_id: SERVICE_ACCOUNT_CLIENT_ID, client_secret: secrets.serviceAccountSecret },
    ],
  };
}

/**
 * Lets {@link EXCHANGE_CLIENT_ID} exchange tokens of {@link DESP_IDP_ALIAS}: turns on the
 * identity provider's permissions (which creates its `token-exchange` scope permission in the
 * `realm-management` client) and makes that permission grant to a client policy naming the
 * client. Each step first looks whether it is already done.
 */
export async function allowTokenExchange(
  base: string,
  admin: { username: string; password: string },
): Promise<void> {
  const call = await adminCaller(base, admin);
  const permissions = await call(
    "PUT",
    `/identity-provider/instances/${DESP_IDP_ALIAS}/management/permissions`,
    { enabled: true },
  ) as { scopePermissions?: Record<string, string> };
  const permissionId = permissions.scopePermissions?.["token-exchange"];
  if (!permissionId) throw new Error("Keycloak created no token-exchange permission for DESP");
  const [realmManagement] = await call("GET", "/clients?clientId=realm-management") as {
    id: string;
  }[];
  const [exchangeClient] = await call("GET", `/clients?clientId=${EXCHANGE_CLIENT_ID}`) as {
    id: string;
  }[];
  const authz = `/clients/${realmManagement.id}/authz/resource-server`;
  const policies = await call(
    "GET",
    `${authz}/policy?name=${encodeURIComponent(EXCHANGE_POLICY)}`,
  ) as { id: string; name: string }[];
  const policyId = policies.find((p) => p.name === EXCHANGE_POLICY)?.id ??
    (await call("POST", `${authz}/policy/client`, {
      name: EXCHANGE_POLICY,
      logic: "POSITIVE",
      decisionStrategy: "UNANIMOUS",
      clients: [exchangeClient.id],
    }) as { id: string }).id;
  const current = await call("GET", `${authz}/policy/${permissionId}/associatedPolicies`) as {
    id: string;
  }[];
  if (current.some((p) => p.id === policyId)) return;
  const permission = await call("GET", `${authz}/permission/scope/${permissionId}`) as Record<
    string,
    unknown
  >;
  const resources = await call("GET", `${authz}/policy/${permissionId}/resources`) as {
    _id: string;
  }[];
  const scopes = await call("GET", `${authz}/policy/${permissionId}/scopes`) as { id: string }[];
  await call("PUT", `${authz}/permission/scope/${permissionId}`, {
    ...permission,
    resources: resources.map((r) => r._id),
    scopes: scopes.map((s) => s.id),
    policies: [...current.map((p) => p.id), policyId],
  });
}

/** A caller of the `dedl` realm's admin REST API, logged in as the bootstrap admin. */
async function adminCaller(
  base: string,
  admin: { username: string; password: string },
): Promise<(method: string, path: string, body?: unknown) => Promise<unknown>> {
  const login = await fetch(`${base}/realms/master/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "password",
      client_id: "admin-cli",
      username: admin.username,
      password: admin.password,
    }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!login.ok) throw new Error(`admin login failed: HTTP ${login.status}`);
  const token = (await login.json()).access_token as string;
  return async (method, path, body) => {
    const res = await fetch(`${base}/admin/realms/dedl${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`admin ${method} ${path}: HTTP ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

/** RFC 4648 base32 without padding (the form authenticator apps and the tests take). */
function base32(bytes: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0, out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}
