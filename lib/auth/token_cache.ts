/**
 * Opt-in storage of refresh tokens between command-line runs, so that a CLI does not ask for the
 * password at every command.
 *
 * ## Threat model
 *
 * What is stored: only refresh tokens, one per (issuer, client id, account), never a password
 * and never an access token. Whoever can read the file can get access tokens for that account
 * until the login session ends — the realm's idle timeout (renewed by every refresh) or its
 * maximum session lifespan, or an explicit logout (`OidcAuth.logout()` revokes the session and
 * deletes the entry; an administrator can end all sessions of a user).
 *
 * Protected against: other local users (the file is created with mode 0600 in a directory
 * created with mode 0700, written atomically through a private temporary file; a file readable
 * by group or others, or owned by another user, is refused with `TokenCacheInsecure`), and
 * accidental disclosure through logs (nothing in this layer logs tokens).
 *
 * Not protected against: anything running as the same user (malware, a compromised shell,
 * another script), root, backups or synced home directories that copy the file, and shared
 * accounts. No offline tokens are requested, so a stolen refresh token dies with the session.
 * Do not enable the cache on shared or untrusted machines; use the device login there instead.
 * @module
 */
import { TokenCacheInsecure, TokenCacheUnusable } from "./errors.ts";

/** Where refresh tokens are kept between runs; keys name issuer, client and account. */
export interface TokenCache {
  /** The refresh token stored under `key`, if any. */
  load(key: string): Promise<string | undefined>;
  /** Stores (or replaces) the refresh token under `key`. */
  store(key: string, refreshToken: string): Promise<void>;
  /** Forgets `key` (no error if absent). */
  delete(key: string): Promise<void>;
}

/** The cache key of one account's refresh token (an issuer, client and account name). */
export function tokenCacheKey(issuer: string, clientId: string, account: string): string {
  return `${issuer} ${clientId} ${account}`;
}

/** The default cache file: `$XDG_CACHE_HOME/dedl-dask/refresh-tokens.json` (or `~/.cache/…`). */
export function defaultTokenCachePath(): string {
  // Joined by hand: `node:path` would make every program load Node compatibility at start-up.
  const sep = Deno.build.os === "windows" ? "\\" : "/";
  const base = Deno.env.get("XDG_CACHE_HOME") ??
    [Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".", ".cache"].join(sep);
  return [base, "dedl-dask", "refresh-tokens.json"].join(sep);
}

/** The folder part of a file path (`.` for a bare name). */
function parentDir(path: string): string {
  const at = Math.max(
    path.lastIndexOf("/"),
    Deno.build.os === "windows" ? path.lastIndexOf("\\") : -1,
  );
  return at < 0 ? "." : at === 0 ? path.slice(0, 1) : path.slice(0, at);
}

interface CacheFile {
  version: 1;
  refreshTokens: Record<string, string>;
}

/**
 * A {@linkcode TokenCache} in one JSON file, private to the user (mode 0600). Concurrent writers
 * do not corrupt it (atomic rename); the last write wins.
 */
export class FileTokenCache implements TokenCache {
  /** The cache file. */
  readonly path: string;

  /** `path` defaults to {@linkcode defaultTokenCachePath}; nothing is read until used. */
  constructor(path: string = defaultTokenCachePath()) {
    this.path = path;
  }

  async load(key: string): Promise<string | undefined> {
    return (await this.#read()).refreshTokens[key];
  }

  async store(key: string, refreshToken: string): Promise<void> {
    const file = await this.#read();
    file.refreshTokens[key] = refreshToken;
    await this.#write(file);
  }

  async delete(key: string): Promise<void> {
    const file = await this.#read();
    if (!(key in file.refreshTokens)) return;
    delete file.refreshTokens[key];
    await this.#write(file);
  }

  async #read(): Promise<CacheFile> {
    let text: string;
    try {
      const info = await Deno.stat(this.path);
      this.#checkPrivate(info);
      text = await Deno.readTextFile(this.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return { version: 1, refreshTokens: {} };
      if (e instanceof TokenCacheInsecure) throw e;
      throw new TokenCacheUnusable(this.path, "read", (e as Error).message, { cause: e });
    }
    try {
      const parsed = JSON.parse(text);
      if (parsed?.version === 1 && typeof parsed.refreshTokens === "object") {
        return { version: 1, refreshTokens: { ...parsed.refreshTokens } };
      }
    } catch {
      // An unreadable cache holds nothing usable; it is rewritten on the next store.
    }
    return { version: 1, refreshTokens: {} };
  }

  #checkPrivate(info: Deno.FileInfo): void {
    // Mode and owner are not reported on Windows; the profile directory is private there.
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      throw new TokenCacheInsecure(this.path, `mode 0${(info.mode & 0o777).toString(8)}`);
    }
    const uid = Deno.uid();
    if (info.uid !== null && uid !== null && info.uid !== uid) {
      throw new TokenCacheInsecure(this.path, `owned by uid ${info.uid}, not ${uid}`);
    }
  }

  async #write(file: CacheFile): Promise<void> {
    const dir = parentDir(this.path);
    let temp: string | undefined;
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      temp = await Deno.makeTempFile({ dir, prefix: ".refresh-tokens-" });
      await Deno.chmod(temp, 0o600).catch((e) => {
        if (!(e instanceof Deno.errors.NotSupported)) throw e;
      });
      await Deno.writeTextFile(temp, JSON.stringify(file, null, 1));
      await Deno.rename(temp, this.path);
    } catch (e) {
      if (temp !== undefined) await Deno.remove(temp).catch(() => {});
      throw new TokenCacheUnusable(this.path, "write", (e as Error).message, { cause: e });
    }
  }
}
