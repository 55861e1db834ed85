/**
 * Stopping every cluster of a {@link MultiCluster} when the process is interrupted (Ctrl-C,
 * SIGTERM). What a process does on a signal is the program's policy, so the library only offers
 * it: a program that wants it calls {@linkcode stopClustersOnSignal}, and chooses whether to be
 * told and whether to exit.
 * @module
 */
import type { ClusterStatus } from "../gateway/mod.ts";
import type { MultiCluster, SiteOutcome } from "./multi_cluster.ts";

/** The signals {@linkcode stopClustersOnSignal} can handle. */
export type StopSignal = "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGQUIT";

/** Signal numbers, for the shell's exit status 128 + n. */
const SIGNAL_NUMBERS: Record<StopSignal, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGTERM: 15,
};

/** Options of {@linkcode stopClustersOnSignal}. */
export interface StopOnSignalOptions {
  /** The signals to handle. Default `SIGINT` (Ctrl-C) and `SIGTERM`. */
  readonly signals?: readonly StopSignal[];
  /** Called at once when a signal arrives, before the clusters are stopped (e.g. to say so). */
  readonly onSignal?: (signal: StopSignal) => void;
  /** Called when the clusters are stopped, with one outcome per site that held one. */
  readonly onStopped?: (signal: StopSignal, outcomes: SiteOutcome<ClusterStatus>[]) => void;
  /**
   * Once the clusters are stopped, end the process with the shell's status for the signal
   * (130 for SIGINT, 143 for SIGTERM). Computations of `mc` still under way then never settle,
   * so that the closed connections cannot fail the program before it exits. Default `false`:
   * the program goes on, and those computations reject.
   */
  readonly exit?: boolean;
}

/** MultiClusters whose process ends once their clusters are stopped. */
const endingProcess = new WeakSet<MultiCluster>();

/**
 * Whether `mc`'s process is about to exit after a signal (see
 * {@link StopOnSignalOptions.exit}): a computation failing now must not surface.
 */
export function isEndingProcess(mc: MultiCluster): boolean {
  return endingProcess.has(mc);
}

/**
 * Stops every cluster `mc` holds when the process gets one of `options.signals` (default
 * SIGINT and SIGTERM): `mc.shutdown()`, all sites in parallel. Prints nothing; `onSignal` and
 * `onStopped` tell the program, and `exit` ends the process afterwards. The first signal removes
 * the listeners, so a second one has its default effect: it ends the process at once. Dispose
 * the result (`using`) to stop listening.
 *
 * @example
 * ```ts
 * await using mc = await MultiCluster.connect({ auth });
 * using _ = stopClustersOnSignal(mc, {
 *   onSignal: (signal) => console.error(`${signal}: stopping the clusters…`),
 *   exit: true,
 * });
 * await mc.newCluster();
 * ```
 */
export function stopClustersOnSignal(
  mc: MultiCluster,
  options: StopOnSignalOptions = {},
): Disposable {
  const listening = new Map<StopSignal, () => void>();
  const stopListening = () => {
    for (const [signal, listener] of listening) Deno.removeSignalListener(signal, listener);
    listening.clear();
  };
  const handle = async (signal: StopSignal) => {
    stopListening();
    if (options.exit) endingProcess.add(mc);
    // The program's callbacks may throw; the clusters are stopped (and the process ended) anyway.
    try {
      options.onSignal?.(signal);
    } finally {
      const outcomes = await mc.shutdown();
      try {
        options.onStopped?.(signal, outcomes);
      } finally {
        if (options.exit) Deno.exit(128 + SIGNAL_NUMBERS[signal]);
      }
    }
  };
  for (const signal of options.signals ?? ["SIGINT", "SIGTERM"]) {
    const listener = () => void handle(signal);
    try {
      Deno.addSignalListener(signal, listener);
      listening.set(signal, listener);
    } catch {
      // A platform without this signal (Windows has only SIGINT and SIGBREAK).
    }
  }
  return { [Symbol.dispose]: stopListening };
}
