/**
 * `wait(futures, { returnWhen })`: block until some or all futures are done, like Python's
 * `distributed.wait`.
 * @module
 */
import { withTimeout } from "../../base/mod.ts";
import { InvalidArgument, RequestTimeout } from "../errors.ts";
import { type Future, keyStateOf } from "./future.ts";
import { type KeyState, whenSettled } from "./key_state.ts";

/**
 * When {@link wait} returns: once every future is done (`"ALL_COMPLETED"`, default), once any is
 * (`"FIRST_COMPLETED"`), or once any fails (`"FIRST_EXCEPTION"`, else when all are done).
 */
export type ReturnWhen = "ALL_COMPLETED" | "FIRST_COMPLETED" | "FIRST_EXCEPTION";

/** Options of {@link wait}. */
export interface WaitOptions {
  /** When to return. Default `"ALL_COMPLETED"`. */
  readonly returnWhen?: ReturnWhen;
  /** Milliseconds to wait at most; then `RequestTimeout`. Default: no limit. */
  readonly timeoutMs?: number;
}

/** The futures split by whether they are done. */
export interface WaitResult {
  /** Finished, failed, cancelled or unreachable futures, in input order. */
  readonly done: Future[];
  /** Futures still computing, in input order. */
  readonly notDone: Future[];
}

/**
 * Waits for futures without fetching their values. A failed or cancelled future counts as done
 * (its `status` says how; `result()` gives the error); `wait` itself only throws on timeout.
 * Futures may come from several clients.
 *
 * ```ts
 * const { done, notDone } = await wait(futures, { returnWhen: "FIRST_COMPLETED" });
 * ```
 * @throws {RequestTimeout} when `timeoutMs` passes first.
 * @throws {InvalidArgument} for an unknown `returnWhen`.
 */
export async function wait(
  futures: Iterable<Future>,
  options: WaitOptions = {},
): Promise<WaitResult> {
  const list = [...futures];
  const returnWhen = options.returnWhen ?? "ALL_COMPLETED";
  if (!["ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION"].includes(returnWhen)) {
    throw new InvalidArgument(
      `wait(): returnWhen is ${JSON.stringify(returnWhen)}; give "ALL_COMPLETED", ` +
        `"FIRST_COMPLETED" or "FIRST_EXCEPTION"`,
    );
  }
  // One watcher for all keys (see whenSettled); a released future counts as done at once.
  const stop = returnWhen === "FIRST_COMPLETED"
    ? () => true
    : returnWhen === "FIRST_EXCEPTION"
    ? (state: KeyState) => state.status !== "finished"
    : undefined;
  const states: KeyState[] = [];
  let stopped = false;
  for (const f of list) {
    if (!f.released) states.push(keyStateOf(f));
    else if (stop) stopped = true;
  }
  if (!stopped) {
    const waiting = whenSettled(states, stop);
    try {
      await withTimeout(
        waiting.done,
        options.timeoutMs,
        () =>
          new RequestTimeout(`wait(): the futures were not done within ${options.timeoutMs} ms`),
      );
    } finally {
      waiting.cancel();
    }
  }
  const done = list.filter((f) => f.status !== "pending");
  return { done, notDone: list.filter((f) => f.status === "pending") };
}
