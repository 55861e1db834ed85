/**
 * How a command gets its login. After `dedl-dask login --remember` the refresh token is kept in
 * the library's token cache (0600) and the account is noted in `cli-logins.json` beside it, per
 * issuer and client; later commands resume that session without a password. Otherwise each
 * command logs in by itself — password from the terminal (no echo) or `--password-stdin`, or the
 * device login with `--device` — and logs out when it ends.
 * @module
 */
import { dirname, join } from "node:path";
import { OidcAuth } from "../auth/oidc_auth.ts";
import { readPasswordFromTerminal } from "../auth/password_prompt.ts";
import { defaultTokenCachePath, FileTokenCache, type TokenCache } from "../auth/token_cache.ts";
import type { Flags } from "./command.ts";
import { NotLoggedIn, UsageError } from "./errors.ts";

/** Environment variable with the default username. */
export const USERNAME_ENV = "DEDL_DASK_USERNAME";

/** Flags of every command that logs in. */
export const LOGIN_FLAGS: Flags = {
  username: {
    type: "string",
    short: "u",
    value: "<name>",
    help: `DEDL username (default: the remembered login, else $${USERNAME_ENV}, else asked)`,
  },
  "password-stdin": {
    type: "boolean",
    help: "read the password from stdin (for scripts) instead of the terminal",
  },
  device: {
    type: "boolean",
    help: "log in with the device code in a browser instead of a password",
  },
  issuer: {
    type: "string",
    value: "<URL>",
    help: "OIDC issuer (default DEDL's, or the one in a local --sites file)",
  },
  "client-id": {
    type: "string",
    value: "<id>",
    help: "OIDC public client (default dedl-stack-public-client, or the --sites file's)",
  },
  "token-cache": {
    type: "string",
    value: "<file>",
    help: "where a remembered session is kept (default ~/.cache/dedl-dask/refresh-tokens.json)",
  },
};

/** How to log in, from the command line. */
export interface LoginSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly username?: string;
  readonly passwordStdin: boolean;
  readonly device: boolean;
  readonly tokenCachePath?: string;
}

/** A login made for a command. */
export interface CommandLogin {
  readonly auth: OidcAuth;
  /** Whether the session is kept in the token cache (then it outlives the command). */
  readonly remembered: boolean;
  /** The token cache file, when remembered. */
  readonly tokenCachePath?: string;
}

type LoginRecord = { method: "password"; username: string } | { method: "device" };

/** The CLI's note of remembered logins: which account, per issuer and client. No secrets. */
class LoginRecords {
  readonly path: string;

  constructor(tokenCachePath: string) {
    this.path = join(dirname(tokenCachePath), "cli-logins.json");
  }

  async get(issuer: string, clientId: string): Promise<LoginRecord | undefined> {
    return (await this.#read())[`${issuer} ${clientId}`];
  }

  async set(issuer: string, clientId: string, record: LoginRecord | undefined): Promise<void> {
    const all = await this.#read();
    if (record) all[`${issuer} ${clientId}`] = record;
    else delete all[`${issuer} ${clientId}`];
    await Deno.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(this.path, JSON.stringify({ version: 1, logins: all }, null, 1), {
      mode: 0o600,
    });
  }

  async #read(): Promise<Record<string, LoginRecord>> {
    try {
      const data = JSON.parse(await Deno.readTextFile(this.path));
      return data?.version === 1 && typeof data.logins === "object" ? { ...data.logins } : {};
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof SyntaxError) return {};
      throw e;
    }
  }
}

/**
 * Logs in for one command. With `remember` (the `login` command) the session is stored in the
 * token cache and noted for later commands; otherwise a remembered session is resumed if there
 * is one, else a new login is made that ends with the command.
 * @throws {NotLoggedIn} when a password is needed and there is no way to ask for it.
 */
export async function logIn(
  settings: LoginSettings,
  { remember = false }: { remember?: boolean } = {},
): Promise<CommandLogin> {
  const cachePath = settings.tokenCachePath ?? defaultTokenCachePath();
  const records = new LoginRecords(cachePath);
  const record = await records.get(settings.issuer, settings.clientId);
  const device = settings.device ||
    (!settings.username && !settings.passwordStdin && record?.method === "device");
  // The cache serves only the remembered account: another account's login must not land in it.
  const matchesRecord = device ? record?.method === "device" : record?.method === "password" &&
    (settings.username === undefined || settings.username === record.username);
  const useCache = remember || matchesRecord;
  const tokenCache = useCache ? new FileTokenCache(cachePath) : undefined;
  let auth: OidcAuth;
  // As typed: the token cache keys the session by the account name given at login.
  let username: string | undefined;
  if (device) {
    auth = await OidcAuth.deviceCode({
      issuer: settings.issuer,
      clientId: settings.clientId,
      tokenCache,
    });
  } else {
    username = settings.username ??
      (record?.method === "password" ? record.username : undefined) ??
      (Deno.env.get(USERNAME_ENV) || undefined) ??
      await askUsername(settings);
    auth = await OidcAuth.password({
      issuer: settings.issuer,
      clientId: settings.clientId,
      username,
      tokenCache,
      prompt: (question) => askPassword(question, settings),
    });
  }
  if (remember) {
    await records.set(
      settings.issuer,
      settings.clientId,
      username === undefined ? { method: "device" } : { method: "password", username },
    );
  }
  return { auth, remembered: useCache, ...(useCache ? { tokenCachePath: cachePath } : {}) };
}

/**
 * Ends the remembered session for the issuer and client: revokes it at the identity provider
 * and forgets it locally.
 * @returns `"revoked"`, `"expired"` (it had already ended; forgotten) or `"none"` (nothing
 *   remembered).
 */
export async function logOut(settings: LoginSettings): Promise<"revoked" | "expired" | "none"> {
  const cachePath = settings.tokenCachePath ?? defaultTokenCachePath();
  const records = new LoginRecords(cachePath);
  const record = await records.get(settings.issuer, settings.clientId);
  if (!record) return "none";
  const tokenCache: TokenCache = new FileTokenCache(cachePath);
  const ended = new NotLoggedIn("the remembered session has ended");
  let auth: OidcAuth | undefined;
  try {
    // Resumes from the cache; a login that would need the user means the session is gone (and
    // the library has already dropped it from the cache).
    auth = record.method === "device"
      ? await OidcAuth.deviceCode({
        issuer: settings.issuer,
        clientId: settings.clientId,
        tokenCache,
        onPrompt: () => {
          throw ended;
        },
      })
      : await OidcAuth.password({
        issuer: settings.issuer,
        clientId: settings.clientId,
        username: record.username,
        tokenCache,
        prompt: () => Promise.reject(ended),
      });
  } catch (e) {
    if (e !== ended) throw e;
  }
  await auth?.logout();
  await records.set(settings.issuer, settings.clientId, undefined);
  return auth ? "revoked" : "expired";
}

async function askUsername(settings: LoginSettings): Promise<string> {
  if (settings.passwordStdin) {
    throw new UsageError(`--password-stdin needs --username (or $${USERNAME_ENV})`);
  }
  if (!Deno.stdin.isTerminal()) {
    throw new NotLoggedIn(`no remembered session at ${settings.issuer} and no --username`);
  }
  const name = (await readLine(`Username at ${settings.issuer}: `)).trim();
  if (!name) throw new UsageError("a username is needed: pass --username");
  return name;
}

async function askPassword(question: string, settings: LoginSettings): Promise<string> {
  if (settings.passwordStdin) return await readPasswordFromStdin();
  if (!Deno.stdin.isTerminal()) {
    throw new NotLoggedIn("a password is needed and stdin is not a terminal");
  }
  return await readPasswordFromTerminal(question);
}

/** Most a password read from stdin may be, so that a wrong pipe cannot fill the memory. */
const MAX_STDIN_PASSWORD_BYTES = 4096;

/** The password piped to stdin: its first line (a final newline is not part of it). */
async function readPasswordFromStdin(): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of Deno.stdin.readable) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > MAX_STDIN_PASSWORD_BYTES) {
      throw new UsageError(
        `--password-stdin: stdin holds more than ${MAX_STDIN_PASSWORD_BYTES} bytes; pipe the ` +
          `password alone`,
      );
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
    c.fill(0);
  }
  const text = new TextDecoder().decode(bytes);
  bytes.fill(0);
  const password = text.split(/\r?\n/)[0];
  if (!password) throw new UsageError("--password-stdin: stdin is empty; pipe the password");
  return password;
}

/** One line from the terminal, the question on stderr (stdout stays for results). */
async function readLine(question: string): Promise<string> {
  await Deno.stderr.write(new TextEncoder().encode(question));
  const buffer = new Uint8Array(1024);
  const bytes: number[] = [];
  for (;;) {
    const n = await Deno.stdin.read(buffer);
    if (n === null) break;
    const chunk = buffer.subarray(0, n);
    const end = chunk.indexOf(0x0a);
    bytes.push(...(end >= 0 ? chunk.subarray(0, end) : chunk));
    if (end >= 0 || bytes.length >= 1024) break;
  }
  return new TextDecoder().decode(new Uint8Array(bytes)).replace(/\r$/, "");
}
