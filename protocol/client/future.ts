/**
 * Futures: handles to keys a client computes or scatters on a Dask cluster.
 * @module
 */
import { withTimeout } from "../../base/mod.ts";
import { FutureReleased, RequestTimeout } from "../errors.ts";
import { KEY_REFERENCE } from "../graph/key_reference.ts";
import type { NodeAttrs } from "../graph/py.ts";
import type { FutureStatus, KeyState } from "./key_state.ts";

/**
 * What a future asks of the client that made it. The client implements it on a private object,
 * so these operations are not part of the client's API.
 */
export interface FutureOwner {
  /** Waits for `future`'s key (tracked by `state`) and fetches its value. */
  result(future: Future, state: KeyState, timeoutMs: number | undefined): Promise<unknown>;
  /** Cancels the keys of `futures`. */
  cancel(futures: readonly Future[], reason?: string): Promise<void>;
  /** Drops `future`'s hold on its key. */
  release(future: Future, state: KeyState): void;
}

/** Options of {@link Future.result}. */
export interface ResultOptions {
  /** Milliseconds to wait for the task and its result; by default wait as long as it runs. */
  readonly timeoutMs?: number;
}

/** Reads a future's state; set by the class (see {@link keyStateOf}). */
let stateOf: (future: Future) => KeyState;

/**
 * A key computed or stored on the cluster. Get its value with {@link result}; free it with
 * {@link release} (also done when the future is garbage collected or the client closes).
 */
export class Future {
  /** @ignore Marks futures for the graph builder (a future can be an argument of `py.call`). */
  readonly [KEY_REFERENCE] = true as const;
  /** The Dask key. */
  readonly key: string;
  /** Client-side attributes of the node this future computes. */
  readonly attrs: NodeAttrs;
  readonly #state: KeyState;
  readonly #owner: FutureOwner;
  #released = false;

  static {
    stateOf = (future) => future.#state;
  }

  /** @ignore Futures are made by their client. */
  constructor(key: string, attrs: NodeAttrs, state: KeyState, owner: FutureOwner) {
    this.key = key;
    this.attrs = attrs;
    this.#state = state;
    this.#owner = owner;
  }

  /** Current status of the key. */
  get status(): FutureStatus {
    return this.#released ? "lost" : this.#state.status;
  }

  /** Whether {@link release} was called. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Waits for the key to be in memory without fetching it.
   * @throws {RemoteError} when the task failed, {@link TaskCancelled} when cancelled,
   *   `ConnectionLost`/`ClientClosed` when the client can no longer tell, {@link RequestTimeout}
   *   when `timeoutMs` passes first.
   */
  async wait(options: ResultOptions = {}): Promise<void> {
    this.#checkLive();
    const { timeoutMs } = options;
    await withTimeout(this.#state.wait(), timeoutMs, () => notWithin(`key ${this.key}`, timeoutMs));
  }

  /**
   * Waits for the task and fetches its value, decoded into JS (numbers, strings, arrays,
   * `NDArray`, `PyObject` placeholders …).
   * @throws {RemoteError} when the task failed (Python exception type, message, traceback).
   * @throws {TaskCancelled} when the future was cancelled.
   * @throws {ConnectionLost} when the scheduler connection was lost.
   * @throws {FutureReleased} after {@link release}.
   * @throws {RequestTimeout} when `timeoutMs` passes first.
   */
  async result(options: ResultOptions = {}): Promise<unknown> {
    this.#checkLive();
    return await this.#owner.result(this, this.#state, options.timeoutMs);
  }

  /** Asks the scheduler to stop computing this key; the future rejects with `TaskCancelled`. */
  cancel(reason?: string): Promise<void> {
    return this.#owner.cancel([this], reason);
  }

  /** Drops this handle; the cluster frees the key once no future of this client holds it. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#owner.release(this, this.#state);
  }

  /** Releases the future at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.release();
  }

  #checkLive(): void {
    if (this.#released) {
      throw new FutureReleased(`future ${this.key} was released; its value is gone`);
    }
  }
}

/**
 * The state of `future`'s key, for waits over futures of several clients (`wait`): not part of
 * the future's API.
 */
export function keyStateOf(future: Future): KeyState {
  return stateOf(future);
}

/** The error of a wait for `what` that ran out of its `timeoutMs`. */
export function notWithin(what: string, timeoutMs: number | undefined): RequestTimeout {
  return new RequestTimeout(`${what} did not complete within ${timeoutMs} ms`);
}
