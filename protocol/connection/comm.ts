/**
 * A Dask comm: a transport plus framing, the handshake and message encoding — the TypeScript
 * counterpart of `distributed.comm.Comm` (see `docs/wire-protocol.md`, "Handshake").
 * @module
 */
import { withTimeout } from "../../base/mod.ts";
import {
  ConnectionClosed,
  DaskProtocolError,
  FrameTooLarge,
  HandshakeFailed,
  RequestTimeout,
  TlsHandshakeFailed,
  ZlibNotLoaded,
} from "../errors.ts";
import { frameMessage, FrameReader } from "./framing.ts";
import { loadZlib } from "../codec/lz4.ts";
import { decodeMessage, type DecodeMessageOptions, encodeMessage } from "../codec/message.ts";
import { type ConnectOptions, connectTransport } from "./connect.ts";
import type { SchedulerAddress } from "./address.ts";
import type { Transport } from "./transport.ts";

/** What this client announces: no compression (none is ever produced), pickle protocol 5. */
export const LOCAL_HANDSHAKE = {
  compression: null,
  python: [3, 12, 0],
  "pickle-protocol": 5,
} as const;

/** Options of {@link Comm.connect}. */
export interface CommOptions extends ConnectOptions {
  /** Largest accepted incoming message in bytes. Default 2 GiB. */
  readonly maxMessageSize?: number;
  /** Milliseconds to wait for the peer's handshake. Default: the connect timeout (10 s). */
  readonly handshakeTimeoutMs?: number;
}

/** The peer's handshake message. */
export interface PeerHandshake {
  /** Compression the peer would like; ignored, since we announce none. */
  readonly compression: unknown;
  /** Pickle protocol the peer speaks (the lower of both sides is used). */
  readonly pickleProtocol: number;
  /** The peer's Python version, informational. */
  readonly python?: readonly number[];
}

/** A connected Dask comm. Sends are serialised; at most one `recv` may wait at a time. */
export class Comm {
  readonly #transport: Transport;
  readonly #reader: FrameReader;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(transport: Transport, reader: FrameReader, readonly peerInfo: PeerHandshake) {
    this.#transport = transport;
    this.#reader = reader;
  }

  /** The peer address, e.g. `tcp://127.0.0.1:8786`. */
  get peer(): string {
    return this.#transport.peer;
  }

  /** Whether {@link close} was called or the connection failed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Connects to `address` and completes the Dask handshake.
   * @throws the transport's connect errors, {@link HandshakeFailed} or {@link RequestTimeout}.
   */
  static async connect(
    address: string | SchedulerAddress,
    options: CommOptions = {},
  ): Promise<Comm> {
    const transport = await connectTransport(address, options);
    return await Comm.open(transport, options);
  }

  /** Completes the handshake on an already connected transport (closing it on failure). */
  static async open(transport: Transport, options: CommOptions = {}): Promise<Comm> {
    const reader = new FrameReader(transport, { maxMessageSize: options.maxMessageSize });
    const timeoutMs = options.handshakeTimeoutMs ?? options.timeoutMs ?? 10_000;
    try {
      // Both sides speak first: send ours while reading theirs.
      const [, frames] = await withTimeout(
        Promise.all([
          transport.write(frameMessage(encodeMessage(LOCAL_HANDSHAKE))),
          reader.readMessage(),
        ]),
        timeoutMs,
        () =>
          new RequestTimeout(
            `${transport.peer} sent no Dask handshake within ${timeoutMs} ms; is this a ` +
              `Dask scheduler or worker port?`,
          ),
      );
      if (frames === null) {
        throw new HandshakeFailed(
          `${transport.peer} closed the connection before sending its Dask handshake`,
        );
      }
      return new Comm(transport, reader, parseHandshake(decodeMessage(frames), transport.peer));
    } catch (e) {
      transport.close();
      throw handshakeFailure(e, transport.peer);
    }
  }

  /** Encodes and writes one message (after any earlier sends). */
  send(msg: unknown): Promise<void> {
    return this.sendFrames(encodeMessage(msg));
  }

  /** Writes one message given as already encoded frames (frame 0 = msgpack). */
  sendFrames(frames: readonly Uint8Array[]): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const chunks = frameMessage(frames);
    const write = this.#writing.then(() => this.#transport.write(chunks));
    this.#writing = write.catch((e) => {
      this.close();
      throw e;
    }).catch(() => {});
    return write;
  }

  /**
   * Reads and decodes the next message (`__Serialized__` values stay {@link Serialized} unless
   * `options.onSerialized` says otherwise).
   * @throws {ConnectionClosed} when the connection ends.
   */
  async recv(options?: DecodeMessageOptions): Promise<unknown> {
    const frames = await this.recvFrames();
    try {
      return decodeMessage(frames, options);
    } catch (e) {
      if (!(e instanceof ZlibNotLoaded)) throw e;
      // Decoding leaves the frames untouched, so the message decodes again once zlib is here.
      await loadZlib();
      return decodeMessage(frames, options);
    }
  }

  /** Reads the next message's raw frames. */
  async recvFrames(): Promise<Uint8Array[]> {
    if (this.#closed) throw this.#closedError();
    let frames: Uint8Array[] | null;
    try {
      frames = await this.#reader.readMessage();
    } catch (e) {
      this.close();
      throw e;
    }
    if (frames === null) {
      this.close();
      throw new ConnectionClosed(`${this.peer} closed the connection`);
    }
    return frames;
  }

  /** Closes the connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.close();
  }

  #closedError(): ConnectionClosed {
    return new ConnectionClosed(`comm to ${this.peer} is closed`);
  }
}

/** Names the likely cause when the connection breaks during the Dask handshake. */
function handshakeFailure(e: unknown, peer: string): Error {
  if (e instanceof FrameTooLarge) {
    // A Dask peer's handshake is a few dozen bytes: this one speaks another protocol.
    const text = e.head && /^[\x20-\x7e]{8}$/.test(String.fromCharCode(...e.head))
      ? `; it answered ${JSON.stringify(String.fromCharCode(...e.head))}…` +
        (String.fromCharCode(...e.head).startsWith("HTTP/") ? " (an HTTP server)" : "")
      : "";
    return new HandshakeFailed(
      `${peer} is not a Dask scheduler or worker: its first message is not Dask's${text}; ` +
        "check the address and port (a gateway's scheduler proxy, or the scheduler's own port)",
      { cause: e },
    );
  }
  if (!(e instanceof ConnectionClosed)) {
    return e instanceof DaskProtocolError
      ? e
      : new HandshakeFailed(`handshake with ${peer} failed: ${e}`, { cause: e });
  }
  const reason = e.cause instanceof Error ? e.cause.message : "";
  if (/alert/i.test(reason)) {
    // TLS 1.3 reports a refused client certificate only after the client's handshake is done.
    return new TlsHandshakeFailed(
      `${peer} ended the TLS session (${reason}): it does not accept our client certificate ` +
        `or key; check the TLS material`,
      { cause: e },
    );
  }
  return new HandshakeFailed(
    `${peer} closed the connection during the Dask handshake (${e.message}); if the ` +
      `scheduler expects TLS, connect with tls://`,
    { cause: e },
  );
}

function parseHandshake(msg: unknown, peer: string): PeerHandshake {
  const get = (k: string): unknown =>
    msg instanceof Map ? msg.get(k) : (msg as Record<string, unknown> | null)?.[k];
  const protocol = get("pickle-protocol");
  if (msg === null || typeof msg !== "object" || typeof protocol !== "number") {
    throw new HandshakeFailed(
      `${peer} sent an invalid Dask handshake (no "pickle-protocol"); is this a Dask port?`,
    );
  }
  const python = get("python");
  return {
    compression: get("compression") ?? null,
    pickleProtocol: Math.min(protocol, LOCAL_HANDSHAKE["pickle-protocol"]),
    python: Array.isArray(python) ? python : undefined,
  };
}
