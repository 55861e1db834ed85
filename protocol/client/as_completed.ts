/**
 * `asCompleted(futures)`: results as the cluster finishes them, like Python's
 * `distributed.as_completed(futures, with_results=True)`.
 * @module
 */
import { withTimeout } from "../../base/mod.ts";
import { type Future, notWithin, type ResultOptions } from "./future.ts";

/** One future that finished: its value, or why it failed. */
export type Completed =
  | {
    /** The future that finished. */
    readonly future: Future;
    /** It holds a value. */
    readonly ok: true;
    /** Its value (as `future.result()` gives it). */
    readonly value: unknown;
  }
  | {
    /** The future that finished. */
    readonly future: Future;
    /** It failed, was cancelled or cannot be reached. */
    readonly ok: false;
    /** `RemoteError`, `TaskCancelled`, `ConnectionLost`, … */
    readonly error: Error;
  };

/** Options of {@link asCompleted}. */
export interface AsCompletedOptions extends ResultOptions {
  /** Fetch each value (`true`, default) or only report that the future finished. */
  readonly withResults?: boolean;
}

/**
 * Yields each future once it finishes, in the order they finish (a fast task before a slow one,
 * whatever the input order), with its value or its error; a failure never stops the others.
 * Futures may come from several clients (e.g. several sites). With `withResults: false` the
 * values stay on the cluster and `value` is `undefined`.
 *
 * ```ts
 * for await (const done of asCompleted(client.map("slow.task", [3, 1, 2]))) {
 *   console.log(done.ok ? done.value : done.error.message);
 * }
 * ```
 * @param options `timeoutMs` bounds the wait for each next future (`RequestTimeout`).
 */
export async function* asCompleted(
  futures: Iterable<Future>,
  options: AsCompletedOptions = {},
): AsyncGenerator<Completed, void, undefined> {
  const list = [...futures];
  const withResults = options.withResults ?? true;
  // Settled in finishing order; each value is fetched as soon as its future finishes.
  const queue: Promise<Completed>[] = [];
  let wake: (() => void) | undefined;
  for (const future of list) {
    future.wait().then(
      () => {
        queue.push(
          withResults
            ? future.result().then(
              (value): Completed => ({ future, ok: true, value }),
              (error): Completed => ({ future, ok: false, error }),
            )
            : Promise.resolve({ future, ok: true, value: undefined }),
        );
        wake?.();
      },
      (error) => {
        queue.push(Promise.resolve({ future, ok: false, error }));
        wake?.();
      },
    );
  }
  for (let yielded = 0; yielded < list.length; yielded++) {
    while (queue.length === 0) {
      const next = new Promise<void>((resolve) => (wake = resolve));
      await withTimeout(
        next,
        options.timeoutMs,
        () => notWithin("the next future of asCompleted()", options.timeoutMs),
      );
    }
    yield await queue.shift()!;
  }
}
