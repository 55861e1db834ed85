/**
 * The client's record of one key on the cluster, shared by every future of that key: where the
 * key stands, who waits for it, how many futures still hold it, and how the scheduler names it.
 *
 * A key is a string, or (for a collection's chunks) a tuple such as `('x', 0, 1)`, which
 * schedulers from distributed 2023.9.0 on keep as a tuple and send as a msgpack array; older
 * ones turn it into the string Python prints for it. The client names every key by that text
 * ({@link keyText}) and keeps the wire form of tuple keys to send them back as they came.
 * @module
 */

/**
 * Where a key stands: computing (`pending`), in memory (`finished`), failed (`error`),
 * cancelled (`cancelled`), or unreachable because the client closed or lost its scheduler
 * (`lost`).
 */
export type FutureStatus = "pending" | "finished" | "error" | "cancelled" | "lost";

/** One key's state, referenced by all futures of that key. */
export class KeyState {
  /**
   * A key that is computing: `key` is its text, `wire` its form on the wire when that is not
   * the text (tuple keys).
   */
  constructor(readonly key: string, readonly wire: unknown = key) {}
  /** Where the key stands. */
  status: FutureStatus = "pending";
  /** Why it failed, when it did. */
  error: Error | undefined;
  /** Live futures for this key; the key is released on the cluster when it drops to zero. */
  refs = 0;
  /** Called once when the client releases the key (e.g. to release what it keeps alive). */
  onRelease: (() => void) | undefined;
  /** Keys this key's value stands on (a persisted collection's chunks), kept alive with it. */
  parts: KeyState[] | undefined;
  #waiter: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;

  /** Resolves once the key is in memory; rejects with the failure otherwise. */
  wait(): Promise<void> {
    if (this.status === "finished") return Promise.resolve();
    if (this.error) return Promise.reject(this.error);
    if (!this.#waiter) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#waiter = { promise, resolve, reject };
    }
    return this.#waiter.promise;
  }

  /** The key is in memory. */
  finish(): void {
    this.status = "finished";
    this.error = undefined;
    this.#waiter?.resolve();
    this.#waiter = undefined;
  }

  /** The key failed, was cancelled, or can no longer be reached. */
  fail(status: "error" | "cancelled" | "lost", error: Error): void {
    this.status = status;
    this.error = error;
    this.#waiter?.reject(error);
    this.#waiter = undefined;
  }

  /** Back to computing (data lost on a worker, or a retry). */
  reset(): void {
    if (this.status === "lost") return;
    this.status = "pending";
    this.error = undefined;
  }
}

/** The text of a key: a string as it is, a tuple as Python prints it (`('x', 0)`). */
export function keyText(key: unknown): string {
  if (typeof key === "string") return key;
  if (!Array.isArray(key)) return String(key);
  const items = key.map((k) => typeof k === "string" ? pythonRepr(k) : keyText(k));
  return `(${items.join(", ")}${items.length === 1 ? "," : ""})`;
}

/** `repr(s)` of a Python `str`: single quotes unless it holds a quote and no double quote. */
function pythonRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\" || ch === quote) out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}
