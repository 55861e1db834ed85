/**
 * The first TLS connection of a process pays twice before its first byte: loading `node:tls`
 * (Node compatibility, tens of ms on the main thread) and seeding the crypto library's random
 * generator (~55 ms, measured: the first HMAC, AES or ECDSA key generation takes as long, later
 * ones 0.3 ms). {@link warmUpTls} starts both early, so that they overlap with what the caller
 * waits for meanwhile — a gateway's HTTP API, say — instead of delaying the handshake.
 * @module
 */

let nodeTls: Promise<typeof import("node:tls")> | undefined;
let warming = false;

/** `node:tls`, loaded once, on first use. */
export function loadNodeTls(): Promise<typeof import("node:tls")> {
  return nodeTls ??= import("node:tls");
}

/**
 * Starts loading `node:tls` and seeding the crypto library's random generator (a throwaway
 * ECDSA key pair, made on a worker thread) in the background. Call it as soon as a TLS connection is likely; it does
 * the work once per process, never throws, and nothing waits for it.
 */
export function warmUpTls(): void {
  if (warming) return;
  warming = true;
  loadNodeTls().catch(() => {});
  // ECDSA, not HMAC or AES: Deno makes those keys on the main thread, which the seeding would
  // then block for its whole ~55 ms.
  crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"])
    .catch(() => {});
}
