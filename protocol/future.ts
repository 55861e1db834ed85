/**
 * Futures: handles to keys a client computes or scatters on a Dask cluster.
 * @module
 */
import { FutureReleasedError, RequestTimeoutError } from "./errors.ts";
import { KEY_REFERENCE, type KeyReference, type NodeAttrs } from "./graph.ts";

/**
 * Where a key stands: computing (`pending`), in memory (`finished`), failed (`error`),
 * cancelled (`cancelled`), or unreachable because the client closed or lost its scheduler
 * (`lost`).
 */
export type FutureStatus = "pending" | "finished" | "error" | "cancelled" | "lost";

/** @internal The client's shared record of one key, referenced by all futures of that key. */
export class KeyState {
  /** `key` is the key's text; `wire` its form on the wire when that is not the text (tuples). */
  constructor(readonly key: string, readonly wire: unknown = key) {}
  status: FutureStatus = "pending";
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

  finish(): void {
    this.status = "finished";
    this.error = undefined;
    this.#waiter?.resolve();
    this.#waiter = undefined;
  }

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

/** @internal What a future needs from its client. */
export interface FutureOwner {
  gatherOne(future: Future, timeoutMs?: number): Promise<unknown>;
  cancel(futures: readonly Future[], reason?: string): Promise<void>;
  releaseFuture(future: Future): void;
}

/** Options of {@link Future.result}. */
export interface ResultOptions {
  /** Milliseconds to wait for the task and its result; by default wait as long as it runs. */
  readonly timeoutMs?: number;
}

/**
 * A key computed or stored on the cluster. Get its value with {@link result}; free it with
 * {@link release} (also done when the future is garbage collected or the client closes).
 */
export class Future implements KeyReference {
  /** Marks futures for the graph builder (a future can be an argument of `py.call`). */
  readonly [KEY_REFERENCE] = true as const;
  #released = false;

  /** @internal Created by the client. */
  constructor(
    /** The Dask key. */
    readonly key: string,
    /** Client-side attributes of the node this future computes. */
    readonly attrs: NodeAttrs,
    /** @internal */
    readonly state: KeyState,
    private readonly owner: FutureOwner,
  ) {}

  /** Current status of the key. */
  get status(): FutureStatus {
    return this.#released ? "lost" : this.state.status;
  }

  /** Whether {@link release} was called. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Waits for the key to be in memory without fetching it.
   * @throws {RemoteError} when the task failed, {@link CancelledError} when cancelled,
   *   `ConnectionLostError`/`ClientClosedError` when the client can no longer tell.
   */
  async wait(options: ResultOptions = {}): Promise<void> {
    this.#checkLive();
    await withTimeout(this.state.wait(), options.timeoutMs, `key ${this.key}`);
  }

  /**
   * Waits for the task and fetches its value, decoded into JS (numbers, strings, arrays,
   * `NDArray`, `PyObject` placeholders …).
   * @throws {RemoteError} when the task failed (Python exception type, message, traceback).
   * @throws {CancelledError} when the future was cancelled.
   * @throws {ConnectionLostError} when the scheduler connection was lost.
   * @throws {FutureReleasedError} after {@link release}.
   */
  async result(options: ResultOptions = {}): Promise<unknown> {
    this.#checkLive();
    return await this.owner.gatherOne(this, options.timeoutMs);
  }

  /** Asks the scheduler to stop computing this key; the future rejects with `CancelledError`. */
  cancel(reason?: string): Promise<void> {
    return this.owner.cancel([this], reason);
  }

  /** Drops this handle; the cluster frees the key once no future of this client holds it. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.owner.releaseFuture(this);
  }

  /** Releases the future at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.release();
  }

  #checkLive(): void {
    if (this.#released) {
      throw new FutureReleasedError(`future ${this.key} was released; its value is gone`);
    }
  }
}

/** Races `promise` against an optional timeout; `what` names the awaited thing in the error. */
export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number | undefined,
  what: string,
): Promise<T> {
  if (timeoutMs === undefined) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RequestTimeoutError(`${what} did not complete within ${timeoutMs} ms`)),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}
