/**
 * The session-cookie jar of one gateway origin, tied to one user identity.
 *
 * A dask-gateway sets a session cookie after a successful login and (upstream) trusts it before
 * the `Authorization` header, so a cookie must never outlive the identity it was issued to, and
 * must never reach another gateway: browsers scope cookies by host only, so two sites on one host
 * with different ports would otherwise share them.
 * @module
 */

/** Cookies kept at most; gateways set one. */
const MAX_COOKIES = 20;
/** Longest `name=value` accepted (browsers' limit). */
const MAX_COOKIE_LENGTH = 4096;

interface Cookie {
  value: string;
  path: string;
  secure: boolean;
  /** Epoch ms; `Infinity` for a session cookie. */
  expires: number;
}

/** Cookies of one origin for one identity. */
export class CookieJar {
  #cookies = new Map<string, Cookie>();
  #identity: string | undefined;

  /** Creates an empty jar for `origin` (`scheme://host:port`), the only origin it serves. */
  constructor(readonly origin: string) {}

  /** Number of cookies held (expired ones included until next use). */
  get size(): number {
    return this.#cookies.size;
  }

  /** Drops every cookie when `identity` differs from the identity the cookies were issued to. */
  useFor(identity: string): void {
    if (this.#identity !== identity) this.clear();
    this.#identity = identity;
  }

  /** Drops every cookie. */
  clear(): void {
    this.#cookies.clear();
  }

  /**
   * Stores the cookies a response from `url` sets. Responses from other origins, oversized or
   * malformed cookies, and cookies for another domain are ignored.
   */
  store(url: URL, headers: Headers, now: number = Date.now()): void {
    if (url.origin !== this.origin) return;
    for (const line of headers.getSetCookie()) {
      const parsed = parseSetCookie(line, now);
      if (!parsed || (parsed.domain && !domainMatches(url.hostname, parsed.domain))) continue;
      if (parsed.cookie.expires <= now) {
        this.#cookies.delete(parsed.name);
        continue;
      }
      if (!this.#cookies.has(parsed.name) && this.#cookies.size >= MAX_COOKIES) continue;
      this.#cookies.set(parsed.name, parsed.cookie);
    }
  }

  /** The `Cookie` header value for a request to `url`, or `undefined` when none applies. */
  header(url: URL, now: number = Date.now()): string | undefined {
    if (url.origin !== this.origin) return undefined;
    const pairs: string[] = [];
    for (const [name, cookie] of this.#cookies) {
      if (cookie.expires <= now) {
        this.#cookies.delete(name);
        continue;
      }
      if (cookie.secure && url.protocol !== "https:") continue;
      if (!pathMatches(url.pathname, cookie.path)) continue;
      pairs.push(`${name}=${cookie.value}`);
    }
    return pairs.length ? pairs.join("; ") : undefined;
  }
}

function parseSetCookie(
  line: string,
  now: number,
): { name: string; cookie: Cookie; domain: string | null } | null {
  if (line.length > MAX_COOKIE_LENGTH * 2) return null;
  const [pair, ...attributes] = line.split(";");
  const eq = pair.indexOf("=");
  if (eq <= 0) return null;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  if (!name || name.length + value.length > MAX_COOKIE_LENGTH || /[\s;,]/.test(name)) return null;
  const cookie: Cookie = { value, path: "/", secure: false, expires: Infinity };
  let domain: string | null = null;
  let maxAgeSeen = false;
  for (const attribute of attributes) {
    const sep = attribute.indexOf("=");
    const key = (sep < 0 ? attribute : attribute.slice(0, sep)).trim().toLowerCase();
    const arg = sep < 0 ? "" : attribute.slice(sep + 1).trim();
    if (key === "max-age" && /^-?\d+$/.test(arg)) {
      // Max-Age wins over Expires (RFC 6265 §5.3 step 3).
      maxAgeSeen = true;
      cookie.expires = now + Number(arg) * 1000;
    } else if (key === "expires" && !maxAgeSeen) {
      const at = Date.parse(arg);
      if (!Number.isNaN(at)) cookie.expires = at;
    } else if (key === "path" && arg.startsWith("/")) {
      cookie.path = arg;
    } else if (key === "secure") {
      cookie.secure = true;
    } else if (key === "domain" && arg) {
      domain = arg.replace(/^\./, "").toLowerCase();
    }
  }
  return { name, cookie, domain };
}

function domainMatches(host: string, domain: string): boolean {
  const h = host.toLowerCase();
  return h === domain || h.endsWith(`.${domain}`);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/";
}
