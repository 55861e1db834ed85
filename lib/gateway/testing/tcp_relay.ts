/**
 * Test helper: a TCP relay on a non-loopback address of this machine to a loopback server (the
 * replica's gateway), so that a client reaches the real server at an address that leaves the
 * machine, e.g. to test what a client does with plain `http://` to another host.
 * @module
 */

/** A non-loopback IPv4 address of this machine, if it has one. */
export function outwardAddress(): string | undefined {
  return Deno.networkInterfaces().find((i) => i.family === "IPv4" && !i.address.startsWith("127."))
    ?.address;
}

/** A running relay; `close()` stops accepting. */
export interface TcpRelay {
  /** `http://host:port` of the relay. */
  readonly url: string;
  /** Connections accepted so far. */
  connections(): number;
  close(): void;
}

/** Relays TCP from `host`:(random port) to `target`'s host and port. */
export function tcpRelay(host: string, target: URL): TcpRelay {
  const listener = Deno.listen({ hostname: host, port: 0 });
  let connections = 0;
  (async () => {
    for await (const conn of listener) {
      connections++;
      Deno.connect({ hostname: target.hostname, port: Number(target.port) }).then((up) => {
        conn.readable.pipeTo(up.writable).catch(() => {});
        up.readable.pipeTo(conn.writable).catch(() => {});
      }, () => conn.close());
    }
  })().catch(() => {});
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    url: `http://${host}:${port}`,
    connections: () => connections,
    close: () => listener.close(),
  };
}
