/**
 * The keys a client holds on the cluster: one {@link KeyState} per key, the futures made for
 * them, and when a key is released — once the last future of it is released or garbage
 * collected.
 * @module
 */
import type { KeyReference } from "../graph/key_reference.ts";
import type { NodeAttrs } from "../graph/py.ts";
import { Future, type FutureOwner } from "./future.ts";
import { KeyState } from "./key_state.ts";

/** A client's keys and the futures that hold them. */
export class KeyTable {
  readonly #states = new Map<string, KeyState>();
  /** Futures made here (to reject foreign ones). */
  readonly #mine = new WeakSet<Future>();
  readonly #collected = new FinalizationRegistry<KeyState>((state) => this.#drop(state));
  /** Keys computing collections: a failure is reported with the chunk the scheduler blames. */
  readonly #collectionOutputs = new WeakSet<KeyState>();
  readonly #owner: FutureOwner;
  readonly #onReleased: (key: string) => void;

  /**
   * Futures made here ask `owner` for their results; `onReleased` is called with each key no
   * future holds any more (for the scheduler to release it).
   */
  constructor(owner: FutureOwner, onReleased: (key: string) => void) {
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

  /** Starts tracking `key` as computing; `collectionOutput` marks a collection's output key. */
  add(key: string, options: { collectionOutput?: boolean } = {}): KeyState {
    const state = new KeyState(key);
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
    this.#mine.add(future);
    this.#collected.register(future, state, future);
    return future;
  }

  /** Whether `ref` is a future made here. */
  owns(ref: KeyReference): boolean {
    return this.#mine.has(ref as Future);
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
    this.#onReleased(key);
  }
}
