/**
 * `wait(futures, { returnWhen })`: block until some or all futures are done, like Python's
 * `distributed.wait`.
 * @module
 */
import { withTimeout } from "../../base/mod.ts";
import { InvalidArgument, RequestTimeout } from "../errors.ts";
import type { Future } from "./future.ts";

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
  const settled = list.map((f) => f.wait().then(() => true, () => false));
  let all = Promise.all(settled).then(() => {});
  if (returnWhen === "FIRST_COMPLETED" && list.length > 0) {
    all = Promise.race(settled).then(() => {});
  } else if (returnWhen === "FIRST_EXCEPTION") {
    all = Promise.race([
      all,
      ...settled.map((p) => p.then((ok) => ok ? new Promise<void>(() => {}) : undefined)),
    ]);
  }
  await withTimeout(
    all,
    options.timeoutMs,
    () => new RequestTimeout(`wait(): the futures were not done within ${options.timeoutMs} ms`),
  );
  const done = list.filter((f) => f.status !== "pending");
  return { done, notDone: list.filter((f) => f.status === "pending") };
}
