/**
 * Opening transports to Dask schedulers and workers: plain TCP, mutual TLS, and TLS through a
 * dask-gateway SNI proxy, each bounded by a connect timeout and mapped to typed errors.
 * @module
 */
import type { PeerCertificate } from "node:tls";
import { withTimeout } from "../../base/mod.ts";
import {
  ConnectFailed,
  ConnectionRefused,
  ConnectTimeout,
  DaskProtocolError,
  GatewayClusterNotFound,
  InvalidAddress,
  TlsHandshakeFailed,
} from "../errors.ts";
import { formatAddress, parseAddress, type SchedulerAddress } from "./address.ts";
import { DenoConnTransport } from "./deno_conn_transport.ts";
import { NodeSocketReceiver, NodeSocketTransport } from "./node_socket_transport.ts";
import { loadNodeTls } from "./tls_warm_up.ts";
import type { TlsMaterial, Transport } from "./transport.ts";

/** Options for {@link connectTransport}. */
export interface ConnectOptions {
  /** Milliseconds to wait for TCP connect plus TLS handshake. Default 10 000. */
  readonly timeoutMs?: number;
  /** Certificates for `tls://` and `gateway://` addresses (mutual TLS is mandatory in Dask). */
  readonly tls?: TlsMaterial;
  /**
   * TLS implementation for `tls://`. `"node"` (default) trusts only `tls.ca`, exactly like Dask.
   * `"deno"` uses `Deno.connectTls`, several times faster for bulk data, but it trusts the
   * Mozilla roots in addition to `tls.ca` while host names are not checked — use it only on
   * networks you control. `gateway://` always uses `"node"` (it needs a custom SNI name).
   */
  readonly tlsEngine?: "node" | "deno";
}

/** Default connect timeout in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens a transport to a Dask address (`tcp://`, `tls://` or `gateway://`).
 *
 * @throws {InvalidAddress} for a malformed address or missing TLS material.
 * @throws {ConnectTimeout} when the connection is not up within `timeoutMs`.
 * @throws {ConnectionRefused} when nothing listens on the port.
 * @throws {TlsHandshakeFailed} when the TLS handshake fails (the reason is in the message).
 * @throws {GatewayClusterNotFound} when a gateway proxy has no route for the cluster.
 * @throws {ConnectFailed} for other network failures (e.g. unknown host).
 */
export async function connectTransport(
  address: string | SchedulerAddress,
  options: ConnectOptions = {},
): Promise<Transport> {
  const addr = typeof address === "string" ? parseAddress(address) : address;
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (addr.scheme === "tcp") return await connectTcp(addr, timeoutMs);
  if (!options.tls) {
    throw new InvalidAddress(
      `${formatAddress(addr)} needs TLS material (ca, cert, key): Dask uses mutual TLS`,
    );
  }
  try {
    if (addr.scheme === "tls" && options.tlsEngine === "deno") {
      return await connectDenoTls(addr, options.tls, timeoutMs);
    }
    return await connectNodeTls(addr, options.tls, timeoutMs);
  } catch (e) {
    // node:tls can also throw by itself (loading, or options it refuses): still a typed error.
    if (e instanceof DaskProtocolError) throw e;
    throw new ConnectFailed(`cannot connect to ${formatAddress(addr)}: ${message(e)}`, {
      cause: e,
    });
  }
}

async function connectTcp(addr: SchedulerAddress, timeoutMs: number): Promise<Transport> {
  const peer = formatAddress(addr);
  const pending = Deno.connect({ hostname: addr.host, port: addr.port });
  const conn = await withConnectTimeout(pending, timeoutMs, peer, (c) => c.close()).catch(
    (e) => {
      throw mapSocketError(e, peer);
    },
  );
  conn.setNoDelay(true);
  return new DenoConnTransport(peer, conn);
}

async function connectDenoTls(
  addr: SchedulerAddress,
  material: TlsMaterial,
  timeoutMs: number,
): Promise<Transport> {
  const peer = formatAddress(addr);
  const connecting = (async () => {
    const conn = await Deno.connectTls({
      hostname: addr.host,
      port: addr.port,
      caCerts: [material.ca],
      cert: material.cert,
      key: material.key,
      unsafelyDisableHostnameVerification: true,
    });
    try {
      await conn.handshake();
    } catch (e) {
      conn.close();
      throw e;
    }
    return conn;
  })();
  const conn = await withConnectTimeout(connecting, timeoutMs, peer, (c) => c.close()).catch(
    (e) => {
      if (e instanceof ConnectTimeout) throw e;
      if (e instanceof Deno.errors.ConnectionRefused) throw mapSocketError(e, peer);
      if (e instanceof Deno.errors.NotFound) throw mapSocketError(e, peer);
      throw new TlsHandshakeFailed(`TLS handshake with ${peer} failed: ${message(e)}`, {
        cause: e,
      });
    },
  );
  return new DenoConnTransport(peer, conn);
}

async function connectNodeTls(
  addr: SchedulerAddress,
  material: TlsMaterial,
  timeoutMs: number,
): Promise<Transport> {
  const tls = await loadNodeTls();
  const peer = formatAddress(addr);
  const gateway = addr.scheme === "gateway";
  const clusterName = addr.clusterName ?? "";
  // Kubernetes cluster names are "<namespace>.<name>"; the certificate names the bare part.
  const bareName = clusterName.split(".").pop() ?? clusterName;
  return new Promise((resolve, reject) => {
    let settled = false;
    const receiver = new NodeSocketReceiver();
    const socket = tls.connect({
      host: addr.host,
      port: addr.port,
      ca: [material.ca],
      cert: material.cert,
      key: material.key,
      minVersion: "TLSv1.2",
      rejectUnauthorized: true,
      // Not in @types/node's TLS options, but honoured by node:tls sockets (see the receiver).
      ...({ onread: receiver.onread } as Record<string, unknown>),
      ...(gateway
        ? {
          servername: `daskgateway-${clusterName}`,
          checkServerIdentity: (_host: string, cert: PeerCertificate) =>
            tls.checkServerIdentity(bareName, cert),
        }
        : {
          // Dask checks the chain only, never the host name (check_hostname=False).
          checkServerIdentity: () => undefined,
        }),
    });
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(
          new ConnectTimeout(
            `connecting to ${peer} did not complete within ${timeoutMs} ms ` +
              `(TCP connect and TLS handshake); check the address and network, or raise the ` +
              `connect timeout`,
          ),
        ),
      timeoutMs,
    );
    socket.once("secureConnect", () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners("error");
      socket.removeAllListeners("close");
      resolve(new NodeSocketTransport(peer, socket, receiver));
    });
    socket.once("error", (e: Error) => fail(mapTlsError(e, peer, gateway, clusterName)));
    socket.once("close", () =>
      fail(
        gateway
          ? gatewayNotFound(peer, clusterName)
          : new TlsHandshakeFailed(`${peer} closed the connection during the TLS handshake`),
      ));
  });
}

function mapTlsError(e: Error, peer: string, gateway: boolean, cluster: string): Error {
  const code = (e as { code?: string }).code ?? "";
  if (code === "ECONNREFUSED" || /refused/i.test(e.message)) return mapSocketError(e, peer);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return mapSocketError(e, peer);
  const closedEarly = code === "ECONNRESET" || /disconnected before secure TLS/i.test(e.message);
  if (closedEarly && gateway) return gatewayNotFound(peer, cluster, e);
  return new TlsHandshakeFailed(
    `TLS handshake with ${peer} failed: ${message(e)}${code ? ` (${code})` : ""}` +
      (gateway
        ? "; check the cluster's TLS certificate and key"
        : "; check the CA, client certificate and key"),
    { cause: e },
  );
}

function gatewayNotFound(peer: string, cluster: string, cause?: unknown) {
  return new GatewayClusterNotFound(
    cluster,
    `gateway proxy ${peer} closed the connection during the TLS handshake for SNI ` +
      `"daskgateway-${cluster}": it has no running cluster named "${cluster}" ` +
      `(stopped, not yet started, or a different gateway)`,
    { cause },
  );
}

function mapSocketError(e: unknown, peer: string): Error {
  if (e instanceof ConnectTimeout) return e;
  const code = (e as { code?: string }).code ?? "";
  if (e instanceof Deno.errors.ConnectionRefused || code === "ECONNREFUSED") {
    return new ConnectionRefused(
      `connection to ${peer} refused: nothing listens there; check the address and that the ` +
        `scheduler is running`,
      { cause: e },
    );
  }
  return new ConnectFailed(`cannot connect to ${peer}: ${message(e)}`, { cause: e });
}

/** Bounds a connect by the connect timeout; a connection that arrives after it is closed. */
function withConnectTimeout<T>(
  pending: Promise<T>,
  timeoutMs: number,
  peer: string,
  dispose: (value: T) => void,
): Promise<T> {
  let timedOut = false;
  pending.then((value) => timedOut && dispose(value), () => {});
  return withTimeout(pending, timeoutMs, () => {
    timedOut = true;
    return new ConnectTimeout(
      `connecting to ${peer} did not complete within ${timeoutMs} ms; check the address ` +
        `and network, or raise the connect timeout`,
    );
  });
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
