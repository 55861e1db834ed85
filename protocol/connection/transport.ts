/**
 * The byte-stream interface the Dask comm layer runs on, independent of how the socket was opened
 * (Deno TCP, Deno TLS or `node:tls`).
 * @module
 */

/** A connected, bidirectional byte stream to a Dask peer. */
export interface Transport {
  /** The peer address this transport was opened to, e.g. `tcp://127.0.0.1:8786`. */
  readonly peer: string;
  /**
   * Reads at most `into.length` bytes into `into`; resolves with the count, or `null` at the end
   * of the stream. Rejects with `ConnectionClosed` when the connection fails or is closed.
   */
  read(into: Uint8Array): Promise<number | null>;
  /**
   * Optional fast path for large reads: fills all of `into`, receiving straight into it where the
   * transport can (no intermediate copy). Resolves with `into.length`, or with fewer bytes if the
   * stream ended first. Rejects with `ConnectionClosed` when the connection fails or is
   * closed. Callers fall back to {@link read} when a transport lacks it.
   */
  readFull?(into: Uint8Array): Promise<number>;
  /**
   * Writes the chunks in order, without joining them first. Resolves once the transport has
   * accepted all bytes. Rejects with `ConnectionClosed` when the connection fails.
   */
  write(chunks: readonly Uint8Array[]): Promise<void>;
  /** Closes the connection; pending and later reads and writes reject. Idempotent. */
  close(): void;
}

/** PEM-encoded TLS material for mutual TLS (Dask `tls://` and dask-gateway connections). */
export interface TlsMaterial {
  /** CA certificate(s) that sign the scheduler's certificate (the only trusted roots). */
  readonly ca: string;
  /** Client certificate presented to the scheduler. */
  readonly cert: string;
  /** Private key of the client certificate. */
  readonly key: string;
}
