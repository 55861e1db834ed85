/**
 * The client's record of one key on the cluster, shared by every future of that key: where the
 * key stands, who waits for it, and how many futures still hold it.
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
  /** A key that is computing. */
  constructor(readonly key: string) {}
  /** Where the key stands. */
  status: FutureStatus = "pending";
  /** Why it failed, when it did. */
  error: Error | undefined;
  /** Live futures for this key; the key is released on the cluster when it drops to zero. */
  refs = 0;
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
