/**
 * The keys a client holds on the cluster: one {@link KeyState} per key, the futures made for
 * them, and when a key is released — once the last future of it is released or garbage
 * collected.
 * @module
 */
import { FutureReleased, GraphBuildFailed } from "../errors.ts";
import type { KeyReference } from "../graph/key_reference.ts";
import type { NodeAttrs } from "../graph/py.ts";
import { Future, type FutureOwner } from "./future.ts";
import { KeyState } from "./key_state.ts";

/** Options of {@link KeyTable.add}. */
export interface AddKeyOptions {
  /** The key as the scheduler names it, when that is not its text (a tuple key). */
  readonly wire?: unknown;
  /** The key is a collection's output: a failure is blamed on the chunk that started it. */
  readonly collectionOutput?: boolean;
}

/** A client's keys and the futures that hold them. */
export class KeyTable {
  readonly #states = new Map<string, KeyState>();
  /** Futures made here (to reject foreign ones), with the state each holds. */
  readonly #made = new WeakMap<Future, KeyState>();
  readonly #collected = new FinalizationRegistry<KeyState>((state) => this.#drop(state));
  /** Keys computing collections: a failure is reported with the chunk the scheduler blames. */
  readonly #collectionOutputs = new WeakSet<KeyState>();
  readonly #owner: FutureOwner;
  readonly #onReleased: (wireKey: unknown) => void;

  /**
   * Futures made here ask `owner` for their results; `onReleased` is called with each key no
   * future holds any more, as the scheduler names it (for the scheduler to release it).
   */
  constructor(owner: FutureOwner, onReleased: (wireKey: unknown) => void) {
    this.#owner = owner;
    this.#onReleased = onReleased;
  }

  /** Whether the client holds `key`. */
  has(key: string): boolean {
    return this.#states.has(key);
  }

  /** The state of `key`, if the client holds it. */
  get(key: string): KeyState | undefined {
    return this.#states.get(key);
  }

  /** The keys the client holds. */
  keys(): string[] {
    return [...this.#states.keys()];
  }

  /** `key` as the scheduler names it (a tuple key as it came; other keys as they are). */
  wire(key: string): unknown {
    return this.#states.get(key)?.wire ?? key;
  }

  /** Starts tracking `key` as computing. */
  add(key: string, options: AddKeyOptions = {}): KeyState {
    const state = new KeyState(key, options.wire ?? key);
    this.#states.set(key, state);
    if (options.collectionOutput) this.#collectionOutputs.add(state);
    return state;
  }

  /** Whether `state` is the output key of a collection (see {@link add}). */
  isCollectionOutput(state: KeyState): boolean {
    return this.#collectionOutputs.has(state);
  }

  /** Stops tracking `key` (the scheduler released it for this client) and returns its state. */
  forget(key: string): KeyState | undefined {
    const state = this.#states.get(key);
    this.#states.delete(key);
    return state;
  }

  /** A new future holding `state`'s key. */
  future(state: KeyState, attrs: NodeAttrs): Future {
    const future = new Future(state.key, attrs, state, this.#owner);
    state.refs++;
    this.#made.set(future, state);
    this.#collected.register(future, state, future);
    return future;
  }

  /** Whether `ref` is a future made here. */
  owns(ref: KeyReference): boolean {
    return this.#made.has(ref as Future);
  }

  /**
   * The state `future` holds.
   * @throws {FutureReleased} after `future.release()`.
   * @throws {GraphBuildFailed} for a future of another client.
   */
  held(future: Future): KeyState {
    if (future.released) throw new FutureReleased(`future ${future.key} was released`);
    const state = this.#made.get(future);
    if (!state) throw new GraphBuildFailed(`future ${future.key} belongs to another client`);
    return state;
  }

  /** Drops `future`'s hold on `state` (its key's state). */
  release(future: Future, state: KeyState): void {
    this.#collected.unregister(future);
    this.#drop(state);
  }

  /** Fails every key with `error` and forgets them all. */
  failAll(error: Error): void {
    for (const state of this.#states.values()) state.fail("lost", error);
    this.#states.clear();
  }

  #drop(state: KeyState): void {
    state.refs--;
    const key = state.key;
    if (state.refs > 0 || this.#states.get(key) !== state) return;
    this.#states.delete(key);
    state.onRelease?.();
    this.#onReleased(state.wire);
  }
}
