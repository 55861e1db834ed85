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

/** Told once when a key it watches settles: in memory, failed, cancelled or lost. */
export interface KeyWatcher {
  /** `state` is no longer pending; the watcher is no longer registered. */
  settled(state: KeyState): void;
}

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
  /**
   * Who waits for the key to settle. One field, not a promise per key: a client holding tens of
   * thousands of keys then carries one reference per waiter (see {@link whenSettled}).
   */
  #watchers: KeyWatcher | KeyWatcher[] | undefined;
  /** What {@link wait} returns while the key is pending, shared by its callers. */
  #waiting: Promise<void> | undefined;

  /** Resolves once the key is in memory; rejects with the failure otherwise. */
  wait(): Promise<void> {
    if (this.status === "finished") return Promise.resolve();
    if (this.error) return Promise.reject(this.error);
    this.#waiting ??= new Promise<void>((resolve, reject) => {
      this.watch({ settled: (state) => state.error ? reject(state.error) : resolve() });
    });
    return this.#waiting;
  }

  /** Tells `watcher` when the key settles (once; the key must be pending). */
  watch(watcher: KeyWatcher): void {
    const current = this.#watchers;
    if (current === undefined) this.#watchers = watcher;
    else if (Array.isArray(current)) current.push(watcher);
    else this.#watchers = [current, watcher];
  }

  /** Stops telling `watcher`. */
  unwatch(watcher: KeyWatcher): void {
    const current = this.#watchers;
    if (current === watcher) this.#watchers = undefined;
    else if (Array.isArray(current)) {
      const left = current.filter((w) => w !== watcher);
      this.#watchers = left.length === 0 ? undefined : left.length === 1 ? left[0] : left;
    }
  }

  /** The key is in memory. */
  finish(): void {
    this.status = "finished";
    this.error = undefined;
    this.#settle();
  }

  /** The key failed, was cancelled, or can no longer be reached. */
  fail(status: "error" | "cancelled" | "lost", error: Error): void {
    this.status = status;
    this.error = error;
    this.#settle();
  }

  /** Back to computing (data lost on a worker, or a retry). */
  reset(): void {
    if (this.status === "lost") return;
    this.status = "pending";
    this.error = undefined;
  }

  #settle(): void {
    const watchers = this.#watchers;
    this.#watchers = undefined;
    this.#waiting = undefined;
    if (watchers === undefined) return;
    if (Array.isArray(watchers)) { for (const w of watchers) w.settled(this); }
    else watchers.settled(this);
  }
}

/** A wait for many keys at once (see {@link whenSettled}). */
export interface SettledWait {
  /**
   * Resolves when every key has settled — with `undefined` — or, first, when one settles for
   * which `stop` is true — with that key's state.
   */
  readonly done: Promise<KeyState | undefined>;
  /** Stops waiting (e.g. after a timeout): the keys forget this wait; `done` stays pending. */
  cancel(): void;
}

/**
 * Waits for `states` with one promise and one watcher for all of them, however many: each
 * pending key holds one reference to the watcher, where a promise per key would hold a promise,
 * two functions and their contexts — which, for tens of thousands of keys, outlive the young
 * generation of the JS heap and grow it. A key that is already settled counts at once (and may
 * `stop` the wait, in the order given).
 */
export function whenSettled(
  states: Iterable<KeyState>,
  stop?: (state: KeyState) => boolean,
): SettledWait {
  let resolve!: (state: KeyState | undefined) => void;
  const done = new Promise<KeyState | undefined>((r) => (resolve = r));
  const watched: KeyState[] = [];
  let over = false;
  const end = (state: KeyState | undefined) => {
    over = true;
    for (const s of watched) s.unwatch(watcher);
    watched.length = 0;
    resolve(state);
  };
  const watcher: KeyWatcher = {
    settled(state) {
      if (over) return;
      if (stop?.(state)) end(state);
      else if (--left === 0) end(undefined);
    },
  };
  let left = 0;
  for (const state of states) {
    if (state.status === "pending") {
      state.watch(watcher);
      watched.push(state);
      left++;
    } else if (stop?.(state)) {
      end(state);
      break;
    }
  }
  if (!over && left === 0) end(undefined);
  return {
    done,
    cancel() {
      if (over) return;
      over = true;
      for (const s of watched) s.unwatch(watcher);
      watched.length = 0;
    },
  };
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
