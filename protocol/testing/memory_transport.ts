/**
 * An in-memory {@link Transport} for tests: serves prepared bytes in chosen chunk sizes and
 * records what is written.
 * @module
 */
import { ConnectionClosed } from "../errors.ts";
import type { Transport } from "../connection/transport.ts";

/** Serves `input` to readers, at most `chunk(i)` bytes per read call; records writes. */
export class MemoryTransport implements Transport {
  readonly peer = "memory://test";
  readonly written: Uint8Array[] = [];
  #offset = 0;
  #reads = 0;
  #closed = false;

  constructor(
    private readonly input: Uint8Array,
    private readonly chunk: (readIndex: number) => number = () => Infinity,
  ) {}

  read(into: Uint8Array): Promise<number | null> {
    if (this.#closed) return Promise.reject(new ConnectionClosed("memory transport closed"));
    if (this.#offset >= this.input.length) return Promise.resolve(null);
    const n = Math.min(
      into.length,
      this.input.length - this.#offset,
      Math.max(1, this.chunk(this.#reads++)),
    );
    into.set(this.input.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    return Promise.resolve(n);
  }

  write(chunks: readonly Uint8Array[]): Promise<void> {
    if (this.#closed) return Promise.reject(new ConnectionClosed("memory transport closed"));
    for (const c of chunks) this.written.push(c.slice());
    return Promise.resolve();
  }

  close(): void {
    this.#closed = true;
  }
}

/** Concatenates byte arrays (test helper for building wire input). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
