/**
 * The settings of `Client.connect`.
 * @module
 */
import type { TlsMaterial } from "../connection/transport.ts";
import type { ClientWarning } from "./client_warning.ts";

/** Options of `Client.connect`. */
export interface ClientOptions {
  /** TLS material for `tls://` and `gateway://` addresses. */
  readonly tls?: TlsMaterial;
  /**
   * TLS implementation for `tls://`: `"node"` (default) trusts only `tls.ca`, exactly like Dask.
   * `"deno"` uses `Deno.connectTls`, several times faster for bulk data, but it trusts the
   * Mozilla roots in addition to `tls.ca` while host names are not checked — use it only on
   * networks you control. `gateway://` always uses `"node"`.
   */
  readonly tlsEngine?: "node" | "deno";
  /** Milliseconds for TCP connect plus TLS and Dask handshakes. Default 10 000. */
  readonly connectTimeoutMs?: number;
  /** Milliseconds for scheduler RPC replies and registration. Default 30 000. */
  readonly timeoutMs?: number;
  /** Milliseconds for data transfers (`gather`, `scatter`). Default 600 000. */
  readonly transferTimeoutMs?: number;
  /** Heartbeat period in milliseconds until the scheduler asks for another. Default 5 000. */
  readonly heartbeatIntervalMs?: number;
  /**
   * The connection counts as lost when the scheduler has sent nothing (not even a heartbeat
   * reply) for this many milliseconds. Default 60 000.
   */
  readonly heartbeatTimeoutMs?: number;
  /** Largest accepted message from the scheduler in bytes. Default 2 GiB. */
  readonly maxMessageSize?: number;
  /** Most concurrent RPC connections. Default 4. */
  readonly rpcPoolSize?: number;
  /** Milliseconds small stream operations are batched before sending. Default 10. */
  readonly batchIntervalMs?: number;
  /**
   * Called with each warning, e.g. `VersionMismatchWarning` when the workers run other
   * package versions than the scheduler. Warnings are also kept in `client.warnings`; nothing is
   * printed unless this callback does.
   */
  readonly onWarning?: (warning: ClientWarning) => void;
}

/** Default of {@link ClientOptions.timeoutMs}. */
export const DEFAULT_TIMEOUT_MS = 30_000;
