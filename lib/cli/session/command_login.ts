/**
 * How a command gets its login. Four ways: a DEDL password (asked without echo, or
 * `--password-stdin`), the device login (`--device`), a DESP account (`--desp`: DESP's password
 * and, when DESP asks, a one-time code; the DESP token is exchanged at DEDL), or a service account
 * (`--client-credentials`: `--client-id` and a secret from `$DEDL_DASK_CLIENT_SECRET` or stdin,
 * never from the command line).
 *
 * After `dedl-dask login --remember` what the session needs to renew itself is kept in the
 * library's token cache (0600): DEDL's refresh token, or DESP's for a DESP login; never a
 * password, a one-time code or an access token. A service account keeps nothing: its secret is
 * read again by every command. The account and way of login are noted in `cli-logins.json`
 * beside the cache, per DEDL issuer and client; later commands resume that login. Otherwise each
 * command logs in by itself and logs out when it ends.
 * @module
 */
import {
  defaultTokenCachePath,
  DESP_ISSUER,
  FileTokenCache,
  OidcAuth,
  type TokenCache,
} from "../../auth/mod.ts";
import type { Flags } from "../command_line/command.ts";
import { InvalidCommandLine, NotLoggedIn } from "../errors.ts";
import {
  CLIENT_ID_ENV,
  CLIENT_SECRET_ENV,
  CredentialInput,
  USERNAME_ENV,
} from "./credential_input.ts";
import { type LoginRecord, LoginRecords } from "./login_records.ts";

/** Flags of every command that logs in. */
export const LOGIN_FLAGS: Flags = {
  username: {
    type: "string",
    short: "u",
    value: "<name>",
    help:
      `DEDL or DESP username (default: the remembered login, else $${USERNAME_ENV}, else asked)`,
  },
  "password-stdin": {
    type: "boolean",
    help: "read the password from stdin (for scripts) instead of the terminal",
  },
  device: {
    type: "boolean",
    help: "log in with the device code in a browser instead of a password",
  },
  desp: {
    type: "boolean",
    help: "log in with your DESP (DestinE platform) account, as DEDL's Lab does",
  },
  "otp-stdin": {
    type: "boolean",
    help: "with --desp: read the one-time code from stdin (after the password's line)",
  },
  "desp-issuer": {
    type: "string",
    value: "<URL>",
    help: `with --desp: DESP's issuer (default ${DESP_ISSUER}, or the --sites file's desp.issuer)`,
  },
  "client-credentials": {
    type: "boolean",
    help: `log in as a service account (--client-id); secret from $${CLIENT_SECRET_ENV} or stdin`,
  },
  issuer: {
    type: "string",
    value: "<URL>",
    help: "DEDL's OIDC issuer (default DEDL's, or the one in a local --sites file)",
  },
  "client-id": {
    type: "string",
    value: "<id>",
    help: "OIDC client (default dedl-stack-public-client, or the --sites file's; with --desp " +
      "the exchange client, default hda-public; with --client-credentials the service account)",
  },
  "token-cache": {
    type: "string",
    value: "<file>",
    help: "where a remembered session is kept (default ~/.cache/dedl-dask/refresh-tokens.json)",
  },
};

/** How to log in, from the command line. */
export interface LoginSettings {
  /** DEDL's issuer. */
  readonly issuer: string;
  /** DEDL's public client of password and device logins; with `issuer`, the login's record key. */
  readonly clientId: string;
  /** `--client-id` as given: the DESP exchange client, or the service account. */
  readonly explicitClientId?: string;
  readonly username?: string;
  readonly passwordStdin: boolean;
  readonly device: boolean;
  readonly desp: boolean;
  readonly otpStdin: boolean;
  /** DESP's issuer, from `--desp-issuer` or a local `--sites` file. */
  readonly despIssuer?: string;
  readonly clientCredentials: boolean;
  readonly tokenCachePath?: string;
}

/** The ways of logging in. */
export type LoginMethod = "password" | "device" | "desp" | "client-credentials";

/** A login made for a command. */
export interface CommandLogin {
  readonly auth: OidcAuth;
  readonly method: LoginMethod;
  /** Whether the login is remembered (then it outlives the command). */
  readonly remembered: boolean;
  /** The token cache file, when remembered with a session in it (not for service accounts). */
  readonly tokenCachePath?: string;
}

/**
 * The way of logging in: the one asked for, else the remembered one (unless another account or
 * a password on stdin is given), else a password.
 */
function chooseMethod(settings: LoginSettings, record: LoginRecord | undefined): LoginMethod {
  const asked = [
    settings.desp && "desp",
    settings.clientCredentials && "client-credentials",
    settings.device && "device",
  ].filter((m): m is LoginMethod => typeof m === "string");
  if (asked.length > 1) {
    throw new InvalidCommandLine(
      `choose one way to log in: ${asked.map((m) => `--${m}`).join(" or ")}`,
    );
  }
  if (asked[0]) return asked[0];
  if (!record || settings.passwordStdin) return "password";
  if (settings.username !== undefined && settings.username !== accountOf(record)) {
    return "password";
  }
  return record.method;
}

function accountOf(record: LoginRecord): string | undefined {
  return "username" in record ? record.username : undefined;
}

/**
 * Logs in for one command. With `remember` (the `login` command) the session is stored and noted
 * for later commands; otherwise a remembered login of the same way and account is resumed if
 * there is one, else a new login is made that ends with the command. With `fresh` (the `login`
 * command), and whenever credentials are given (`--password-stdin`, `--device`), the identity
 * provider checks them: a remembered session never stands in for them.
 * @throws {NotLoggedIn} when a password, code or secret is needed and there is no way to ask.
 */
export async function logIn(
  settings: LoginSettings,
  { remember = false, fresh = false }: { remember?: boolean; fresh?: boolean } = {},
): Promise<CommandLogin> {
  const cachePath = settings.tokenCachePath ?? defaultTokenCachePath();
  const records = new LoginRecords(cachePath);
  const record = await records.get(settings.issuer, settings.clientId);
  const method = chooseMethod(settings, record);
  const same = record?.method === method ? record : undefined;
  const input = new CredentialInput(settings);
  if (method === "client-credentials") {
    const clientId = settings.explicitClientId ?? (Deno.env.get(CLIENT_ID_ENV) || undefined) ??
      (same?.method === "client-credentials" ? same.clientId : undefined);
    if (!clientId) {
      throw new InvalidCommandLine(
        `--client-credentials needs --client-id <service account> (or $${CLIENT_ID_ENV})`,
      );
    }
    const auth = await OidcAuth.clientCredentials({
      issuer: settings.issuer,
      clientId,
      clientSecret: await input.clientSecret(clientId),
    });
    if (remember) {
      await records.set(settings.issuer, settings.clientId, {
        method: "client-credentials",
        clientId,
      });
    }
    const remembered = remember ||
      (same?.method === "client-credentials" && same.clientId === clientId);
    return { auth, method, remembered };
  }
  // The cache serves only the remembered account: another account's login must not land in it.
  const matchesRecord = same !== undefined &&
    (settings.username === undefined || settings.username === accountOf(same));
  const useCache = remember || matchesRecord;
  const tokenCache = useCache ? new FileTokenCache(cachePath) : undefined;
  const resume = !fresh && !settings.passwordStdin && !settings.device;
  let auth: OidcAuth;
  let newRecord: LoginRecord;
  if (method === "device") {
    auth = await OidcAuth.deviceCode({
      issuer: settings.issuer,
      clientId: settings.clientId,
      tokenCache,
      resume,
    });
    newRecord = { method: "device" };
  } else if (method === "desp") {
    const previous = same?.method === "desp" ? same : undefined;
    const despIssuer = settings.despIssuer ?? previous?.despIssuer ?? DESP_ISSUER;
    // As typed: the token cache keys the session by the account name given at login.
    const username = settings.username ?? previous?.username ??
      (Deno.env.get(USERNAME_ENV) || undefined) ?? await input.username(despIssuer);
    const exchangeClient = settings.explicitClientId ?? previous?.clientId;
    auth = await OidcAuth.desp({
      issuer: settings.issuer,
      despIssuer,
      ...(exchangeClient ? { clientId: exchangeClient } : {}),
      username,
      tokenCache,
      resume,
      prompt: (question) => input.password(question),
      otp: (question) => input.oneTimeCode(question),
    });
    newRecord = {
      method: "desp",
      username,
      despIssuer,
      ...(exchangeClient ? { clientId: exchangeClient } : {}),
    };
  } else {
    const username = settings.username ??
      (same?.method === "password" ? same.username : undefined) ??
      (Deno.env.get(USERNAME_ENV) || undefined) ?? await input.username(settings.issuer);
    auth = await OidcAuth.password({
      issuer: settings.issuer,
      clientId: settings.clientId,
      username,
      tokenCache,
      resume,
      prompt: (question) => input.password(question),
    });
    newRecord = { method: "password", username };
  }
  if (remember) await records.set(settings.issuer, settings.clientId, newRecord);
  return {
    auth,
    method,
    remembered: useCache,
    ...(useCache ? { tokenCachePath: cachePath } : {}),
  };
}

/**
 * Ends the remembered login for the issuer and client: revokes its session at the identity
 * provider (DESP's for a DESP login) and forgets it locally.
 * @returns `"revoked"`, `"expired"` (it had already ended; forgotten), `"forgotten"` (a service
 *   account: nothing to revoke) or `"none"` (nothing remembered).
 */
export async function logOut(
  settings: LoginSettings,
): Promise<"revoked" | "expired" | "forgotten" | "none"> {
  const cachePath = settings.tokenCachePath ?? defaultTokenCachePath();
  const records = new LoginRecords(cachePath);
  const record = await records.get(settings.issuer, settings.clientId);
  if (!record) return "none";
  if (record.method === "client-credentials") {
    await records.set(settings.issuer, settings.clientId, undefined);
    return "forgotten";
  }
  const tokenCache: TokenCache = new FileTokenCache(cachePath);
  const ended = new NotLoggedIn("the remembered session has ended");
  const refuse = () => Promise.reject(ended);
  let auth: OidcAuth | undefined;
  try {
    // Resumes from the cache; a login that would need the user means the session is gone (and
    // the library has already dropped it from the cache).
    const common = { issuer: settings.issuer, tokenCache };
    switch (record.method) {
      case "device":
        auth = await OidcAuth.deviceCode({
          ...common,
          clientId: settings.clientId,
          onPrompt: () => {
            throw ended;
          },
        });
        break;
      case "desp":
        auth = await OidcAuth.desp({
          ...common,
          ...(record.clientId ? { clientId: record.clientId } : {}),
          despIssuer: record.despIssuer,
          username: record.username,
          prompt: refuse,
          otp: refuse,
        });
        break;
      case "password":
        auth = await OidcAuth.password({
          ...common,
          clientId: settings.clientId,
          username: record.username,
          prompt: refuse,
        });
    }
  } catch (e) {
    if (e !== ended) throw e;
  }
  await auth?.logout();
  await records.set(settings.issuer, settings.clientId, undefined);
  return auth ? "revoked" : "expired";
}
