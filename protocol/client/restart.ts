/**
 * `client.restart()`: forget every task and restart every worker process, like Python's
 * `Client.restart` (the scheduler's `restart` RPC). The scheduler releases all keys of all
 * clients, announces `restart` on each client's stream (this client then rejects its pending
 * futures with `TaskCancelled`), asks each worker's nanny to restart its worker and waits until
 * as many workers as before are back. Workers without a nanny are only shut down, hoping the
 * deployment starts new ones (dask-gateway's adaptive scaling does); when none come back within
 * the timeout the scheduler gives up.
 * @module
 */
import { sleep } from "../../base/mod.ts";
import { InvalidArgument, RestartFailed, RpcFailed } from "../errors.ts";
import type { ClientContext } from "./client_context.ts";

/** Options of {@link Client.restart}. */
export interface RestartOptions {
  /** Milliseconds for the workers to shut down and come back. Default 120 000 (Python's). */
  readonly timeoutMs?: number;
  /** Wait until as many workers as before are back (default `true`), or only until they stop. */
  readonly waitForWorkers?: boolean;
}

/** How long to wait for the scheduler's `restart` announcement after its reply. */
const ANNOUNCE_MS = 5_000;

/**
 * Restarts the workers; every key of every client is forgotten.
 * @throws {RestartFailed} when the workers did not stop or come back in time.
 */
export async function restartCluster(
  ctx: ClientContext,
  options: RestartOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (!(timeoutMs > 0)) {
    throw new InvalidArgument(`restart(): timeoutMs is ${timeoutMs}; give a positive number`);
  }
  // The announcement arrives on the stream, the reply on an RPC connection: wait for both, so
  // that nothing submitted after restart() returns is cancelled by a late announcement.
  const announced = ctx.stream.restarted();
  try {
    await ctx.call({
      op: "restart",
      timeout: timeoutMs / 1000,
      wait_for_workers: options.waitForWorkers ?? true,
      ...(ctx.dialect.restartStimulusId ? { stimulus_id: `client-restart-${Date.now()}` } : {}),
    }, timeoutMs + ctx.timeoutMs);
  } catch (e) {
    if (!(e instanceof RpcFailed)) throw e;
    throw new RestartFailed(
      `the scheduler could not restart the workers: ${e.exceptionText}; workers without a ` +
        `nanny are only stopped, and come back only if the deployment starts new ones`,
      { cause: e },
    );
  }
  const waited = new AbortController();
  await Promise.race([announced, sleep(ANNOUNCE_MS, waited.signal)]);
  waited.abort(); // clears the timer when the announcement came first
}
