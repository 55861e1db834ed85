/**
 * Access tokens and plain HTTP: three of DEDL's five gateway APIs are `http://` in its
 * bridges.json, so a bearer token would cross the network in clear text (Python's client sends
 * it silently). A gateway client warns once before the first token goes to such an address
 * (loopback excepted), or refuses with `requireHttps`.
 * @module
 */
import { InsecureGateway } from "./errors.ts";

/**
 * A bearer token is about to be sent to a gateway over plain HTTP, readable by anyone on the
 * path. Ask the site for its `https://` address, or refuse such sends with `requireHttps`.
 */
export class CleartextToken {
  /** Stable identifier of this warning kind. */
  readonly code = "CLEARTEXT_TOKEN";
  /** What to show. */
  readonly message: string;

  /** Creates the warning for the gateway at `origin`. */
  constructor(
    /** The gateway's origin, e.g. `http://dask.central.data.destination-earth.eu`. */
    readonly origin: string,
  ) {
    this.message = `access tokens go to ${origin} over plain HTTP, readable on the way; use the ` +
      "site's https:// address if it has one, or requireHttps / --require-https to refuse";
  }
}

/** Whether `url` leaves this machine unencrypted: `http://` to a host other than loopback. */
export function isCleartext(url: URL): boolean {
  if (url.protocol !== "http:") return false;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return !(host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host));
}

/** Checks each send of a token to one gateway: warns once, or refuses. */
export class CleartextTokenGuard {
  #warned = false;

  /** A guard for sends to `origin`. */
  constructor(
    private readonly origin: URL,
    private readonly requireHttps: boolean,
    private readonly onWarning: ((warning: CleartextToken) => void) | undefined,
  ) {}

  /**
   * Called before a token is sent to `url`.
   * @throws {InsecureGateway} with `requireHttps` when `url` is cleartext.
   */
  check(url: URL): void {
    if (!isCleartext(url)) return;
    if (this.requireHttps) throw new InsecureGateway(this.origin.origin);
    if (this.#warned) return;
    this.#warned = true;
    this.onWarning?.(new CleartextToken(this.origin.origin));
  }
}
