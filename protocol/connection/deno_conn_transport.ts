/**
 * {@link Transport} over a Deno socket (`Deno.connect` or `Deno.connectTls`): reads land
 * directly in the caller's buffer, so a frame is copied once from the kernel.
 * @module
 */
import { ConnectionClosed } from "../errors.ts";
import type { Transport } from "./transport.ts";

/** Wraps a connected `Deno.Conn`. */
export class DenoConnTransport implements Transport {
  #closed = false;

  constructor(readonly peer: string, private readonly conn: Deno.Conn) {}

  async read(into: Uint8Array): Promise<number | null> {
    if (this.#closed) throw this.#closedError();
    try {
      return await this.conn.read(into);
    } catch (e) {
      throw this.#closedError(e);
    }
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    for (const chunk of chunks) {
      let offset = 0;
      while (offset < chunk.length) {
        if (this.#closed) throw this.#closedError();
        try {
          offset += await this.conn.write(chunk.subarray(offset));
        } catch (e) {
          throw this.#closedError(e);
        }
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed by the runtime after a reset
    }
  }

  #closedError(cause?: unknown): ConnectionClosed {
    const why = this.#closed ? "it was closed" : `of a network error (${describe(cause)})`;
    return new ConnectionClosed(`connection to ${this.peer} is unusable because ${why}`, {
      cause,
    });
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
