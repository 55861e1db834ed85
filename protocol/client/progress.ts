/**
 * Progress of a computation, learnt from its scheduler: how many of its tasks wait, run, are
 * computed or failed, reported at a bounded rate and ended by exactly one final report.
 *
 * How the scheduler is asked. Python's progress bar (`distributed/diagnostics/progressbar.py`
 * @ 2023.8.0 and 2026.7.1) sends the `feed` operation with pickled closures that install a
 * `Progress` plugin on the scheduler; the dashboard reads task prefixes inside the scheduler.
 * Neither is open to a client that cannot pickle code of its own, and the ready-made `feed`
 * pair (`AllProgress` with `progress_stream.counts`) counts every task of the cluster by key
 * prefix (so other work with the same prefixes would mix in), needs pickles to be allowed, and
 * its counting function was renamed (`_counts`) in 2026.6.0. Here the client polls the plain
 * `get_task_status` RPC (`Scheduler.get_task_status`, the same in every release since 2023.4:
 * `{key: state or None}`) with the keys of its own graph — exactly this computation's tasks,
 * whatever else runs on the cluster. A key the scheduler no longer knows, once the graph has
 * reached it, was computed and released. Keys known to be done are not asked again; every
 * computation of a client is asked about in one request per round ({@link ProgressPoller}: a
 * request costs the scheduler about 2 ms of CPU, measured on 2023.8.0 and 2026.8.0); a request asks
 * 10 000 keys at most; rounds are spaced by 50 of their round trips (at most 2 % of the time), at
 * least `progressIntervalMs` and at most 2 s apart (unless the interval is longer).
 * @module
 */
import { sleep, withTimeout } from "../../base/mod.ts";
import {
  ClientClosed,
  ConnectionLost,
  FutureReleased,
  RemoteError,
  TaskCancelled,
} from "../errors.ts";
import type { Future } from "./future.ts";

/** Where a computation stands: `running` until the one final report says how it ended. */
export type ProgressState = "running" | "finished" | "failed" | "cancelled" | "lost";

/** One report on a computation's tasks, as its scheduler tells them. */
export interface TaskProgress {
  /** The same for every report of one computation (or, from `MultiCluster`, one site's part). */
  readonly id: string;
  /** The site the tasks run at, in reports from `MultiCluster`. */
  readonly site?: string;
  /** Tasks of the computation's graph. */
  readonly total: number;
  /** Tasks not started: waiting for their inputs, queued, or without a worker yet. */
  readonly waiting: number;
  /** Tasks running on a worker. */
  readonly processing: number;
  /** Tasks computed (in memory, or computed and already released by the scheduler). */
  readonly memory: number;
  /** Tasks that failed (a failure also fails the tasks that depend on it). */
  readonly erred: number;
  /** Milliseconds since the computation was asked for. */
  readonly elapsedMs: number;
  /** `running`, or how it ended. */
  readonly state: ProgressState;
  /** Whether this is the computation's last report (sent exactly once). */
  readonly final: boolean;
}

/** Receives progress reports; it must return quickly, and what it throws is ignored. */
export type ProgressListener = (progress: TaskProgress) => void;

/** Progress reporting of a computation. */
export interface ProgressOptions {
  /**
   * Called with a first report at once (everything waiting), then with the scheduler's counts
   * at most every `progressIntervalMs`, and once with `final: true` when the computation has
   * ended (finished, failed, cancelled, or its connection lost). Without it nothing is polled.
   */
  readonly onProgress?: ProgressListener;
  /** Least time between two reports in milliseconds. Default 250. */
  readonly progressIntervalMs?: number;
}

/** A task key as the scheduler holds it: a string, or a tuple such as `("x-1a2b", 0, 3)`. */
export type TaskKey = string | readonly (string | number)[];

/**
 * Keys asked for in one poll at most; longer graphs are asked in turns. This bounds what one
 * poll costs the scheduler (about 20 ms for 10 000 keys, measured on 2023.8.0 and 2026.8.0).
 */
const MAX_KEYS_PER_POLL = 10_000;
/** Polls are spaced by this many of their own round trips (at most 2 % of the time)... */
const POLL_SPACING = 50;
/**
 * ...but never more than this apart: a busy scheduler answers late because of its own work,
 * not because of the poll, whose cost stays bounded by {@link MAX_KEYS_PER_POLL}.
 */
const MAX_SPACING_MS = 2_000;
/** Bound on the poll after a failure (to count the failed tasks). */
const FINAL_POLL_MS = 2_000;
const DEFAULT_INTERVAL_MS = 250;

/** A task's place as this client counts it (ordered: computed and failed are settled). */
const Place = { Waiting: 0, Processing: 1, Memory: 2, Erred: 3 } as const;
type Place = typeof Place[keyof typeof Place];

let trackers = 0;

/** Sends `get_task_status` for `keys` and returns the reply. */
export type StatusPoll = (keys: TaskKey[], timeoutMs: number) => Promise<unknown>;

/**
 * One client's polls: every computation it tracks is asked about in the same `get_task_status`
 * call, so that several computations at once cost the scheduler one request per round, not one
 * each (a request costs about 2 ms of scheduler CPU however few keys it asks).
 */
export class ProgressPoller {
  readonly #poll: StatusPoll;
  readonly #trackers = new Set<ProgressTracker>();
  #stop = new AbortController();
  #running = false;
  #lastPollMs = 0;

  /** Polls with `poll`. */
  constructor(poll: StatusPoll) {
    this.#poll = poll;
  }

  /** @ignore Sends one request (a tracker's last look after a failure). */
  pollNow(keys: TaskKey[], timeoutMs: number): Promise<unknown> {
    return this.#poll(keys, timeoutMs);
  }

  /** Includes `tracker` in the rounds, starting them if needed. */
  add(tracker: ProgressTracker): void {
    this.#trackers.add(tracker);
    if (!this.#running) {
      this.#running = true;
      this.#stop = new AbortController();
      this.#loop().finally(() => this.#running = false);
    }
  }

  /** Leaves `tracker` out from now on; the rounds stop with the last one. */
  remove(tracker: ProgressTracker): void {
    this.#trackers.delete(tracker);
    if (this.#trackers.size === 0) this.#stop.abort();
  }

  async #loop(): Promise<void> {
    const stop = this.#stop.signal;
    while (this.#trackers.size > 0 && !stop.aborted) {
      const interval = Math.min(...[...this.#trackers].map((t) => t.intervalMs));
      await sleep(
        Math.max(interval, Math.min(MAX_SPACING_MS, this.#lastPollMs * POLL_SPACING)),
        stop,
      );
      if (stop.aborted) return;
      const rounds = [...this.#trackers];
      const share = Math.max(1, Math.floor(MAX_KEYS_PER_POLL / rounds.length));
      const batches = rounds.map((t) => t.batch(share));
      const keys = new Map<string, TaskKey>();
      for (const b of batches) for (const k of b.keys) keys.set(keyId(k), k);
      if (keys.size === 0) continue;
      let states: Map<string, unknown>;
      try {
        const t0 = performance.now();
        const reply = await unlessAborted(this.#poll([...keys.values()], 120_000), stop);
        this.#lastPollMs = performance.now() - t0;
        if (stop.aborted) return;
        states = statesOf(reply);
      } catch {
        continue; // a lost connection ends the trackers through their outputs
      }
      rounds.forEach((t, i) => t.apply(batches[i], states));
    }
  }
}

/** `promise`, or `undefined` as soon as `signal` aborts. */
async function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  let onAbort!: () => void;
  const aborted = new Promise<undefined>((r) => {
    onAbort = () => r(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** A reply of `get_task_status` by key identity (see {@link keyId}). */
function statesOf(reply: unknown): Map<string, unknown> {
  const states = new Map<string, unknown>();
  if (reply instanceof Map) {
    for (const [k, v] of reply) states.set(keyId(k as TaskKey), v);
  } else if (reply && typeof reply === "object") {
    for (const [k, v] of Object.entries(reply)) states.set(k, v);
  }
  return states;
}

/** What a {@link ProgressTracker} needs. */
export interface TrackerSettings extends ProgressOptions {
  /** Every task key of the computation's graph. */
  readonly keys: Iterable<TaskKey>;
  /** The futures the computation ends with; it has ended when all settled. */
  readonly outputs: readonly Future[];
  /** The client's poller. */
  readonly poller: ProgressPoller;
  /** When the computation was asked for (`performance.now()`); default: now. */
  readonly startedAt?: number;
}

/** Keys of one tracker asked in one round: their indices and the keys. */
interface Batch {
  readonly indices: readonly number[];
  readonly keys: readonly TaskKey[];
}

/**
 * One computation's tasks as its scheduler reports them: counted from each round of the client's
 * {@link ProgressPoller} and reported to `onProgress` (at most every `progressIntervalMs`) until
 * its outputs settle; then the final report. Made by the client for `onProgress` options.
 */
export class ProgressTracker {
  /** Resolves after the final report. */
  readonly done: Promise<void>;
  /** Least time between two reports. */
  readonly intervalMs: number;
  readonly #id = `computation-${++trackers}`;
  readonly #ids: string[] = [];
  readonly #keys: TaskKey[] = [];
  readonly #places: Uint8Array;
  readonly #outputs: readonly Future[];
  readonly #outputIndex: number[];
  readonly #listener: ProgressListener;
  readonly #poller: ProgressPoller;
  readonly #startedAt: number;
  /** Indices of keys not yet computed or failed. */
  #open: number[];
  #turn = 0;
  #graphSeen = false;
  #ended = false;
  #lastEmit = 0;

  /** Starts tracking at once (the first report is sent before this returns). */
  constructor(settings: TrackerSettings) {
    this.#listener = settings.onProgress ?? (() => {});
    this.intervalMs = Math.max(10, settings.progressIntervalMs ?? DEFAULT_INTERVAL_MS);
    this.#poller = settings.poller;
    this.#startedAt = settings.startedAt ?? performance.now();
    this.#outputs = settings.outputs;
    const index = new Map<string, number>();
    for (const key of settings.keys) {
      const id = keyId(key);
      if (index.has(id)) continue;
      index.set(id, this.#keys.length);
      this.#ids.push(id);
      this.#keys.push(key);
    }
    for (const f of settings.outputs) {
      if (!index.has(f.key)) {
        index.set(f.key, this.#keys.length);
        this.#ids.push(f.key);
        this.#keys.push(f.key);
      }
    }
    this.#outputIndex = settings.outputs.map((f) => index.get(f.key)!);
    this.#places = new Uint8Array(this.#keys.length);
    this.#open = this.#keys.map((_, i) => i);
    this.#emit("running");
    this.#poller.add(this);
    this.done = this.#run();
  }

  /**
   * @ignore The open keys to ask in the next round, `limit` at most, in turns (and every output
   * until the scheduler has shown it once).
   */
  batch(limit: number): Batch {
    let indices: number[];
    if (this.#open.length <= limit) {
      indices = this.#open;
    } else {
      const start = this.#turn % this.#open.length;
      indices = this.#open.slice(start, start + limit);
      this.#turn = start + indices.length;
    }
    if (!this.#graphSeen) indices = [...new Set([...indices, ...this.#outputIndex])];
    return { indices, keys: indices.map((i) => this.#keys[i]) };
  }

  /** @ignore Counts a round's answer for `batch` and reports (at most every interval). */
  apply(batch: Batch, states: ReadonlyMap<string, unknown>): void {
    if (this.#ended) return;
    // The graph reached the scheduler once every output was there: from then on a key it does
    // not know was computed and released (all keys of a graph arrive in one update).
    if (!this.#graphSeen) {
      this.#graphSeen = this.#outputIndex.every((i) =>
        this.#places[i] !== Place.Waiting || isState(states.get(this.#ids[i]))
      );
    }
    for (const i of batch.indices) {
      this.#places[i] = placeOf(
        states.get(this.#ids[i]),
        this.#graphSeen,
        this.#places[i] as Place,
      );
    }
    this.#open = this.#open.filter((i) => this.#places[i] < Place.Memory);
    if (this.#outputs.some((f) => f.released)) return; // ends as cancelled (see #run)
    if (performance.now() - this.#lastEmit >= this.intervalMs * 0.9) this.#emit("running");
  }

  async #run(): Promise<void> {
    let state: ProgressState = "lost";
    try {
      state = await untilReleased(outcomeOf(this.#outputs), this.#outputs, this.intervalMs);
      this.#poller.remove(this);
      if (state === "failed") {
        // Count what failed; the scheduler answers within a round trip unless it is gone.
        const last = this.batch(MAX_KEYS_PER_POLL);
        const reply = await withTimeout(
          this.#poller.pollNow([...last.keys], FINAL_POLL_MS),
          FINAL_POLL_MS,
          () => new Error("no answer"),
        ).catch(() => undefined);
        if (reply !== undefined) this.#apply(last, statesOf(reply));
      }
    } finally {
      this.#poller.remove(this);
      this.#finish(state);
    }
  }

  /** Counts a last answer without reporting it. */
  #apply(batch: Batch, states: ReadonlyMap<string, unknown>): void {
    for (const i of batch.indices) {
      this.#places[i] = placeOf(
        states.get(this.#ids[i]),
        this.#graphSeen,
        this.#places[i] as Place,
      );
    }
  }

  #finish(state: ProgressState): void {
    if (state === "finished") {
      // Every task an output depends on is computed once the outputs are.
      for (let i = 0; i < this.#places.length; i++) {
        if (this.#places[i] !== Place.Erred) this.#places[i] = Place.Memory;
      }
    }
    this.#ended = true;
    this.#emit(state);
  }

  #emit(state: ProgressState): void {
    this.#lastEmit = performance.now();
    let waiting = 0, processing = 0, memory = 0, erred = 0;
    for (const p of this.#places) {
      if (p === Place.Waiting) waiting++;
      else if (p === Place.Processing) processing++;
      else if (p === Place.Memory) memory++;
      else erred++;
    }
    const report: TaskProgress = {
      id: this.#id,
      total: this.#places.length,
      waiting,
      processing,
      memory,
      erred,
      elapsedMs: Math.round(this.#lastEmit - this.#startedAt),
      state,
      final: state !== "running",
    };
    try {
      this.#listener(report);
    } catch {
      // A listener's failure must not change the computation it watches.
    }
  }
}

/** Starts reporting a computation's progress (see {@link ProgressTracker}). */
export function trackProgress(settings: TrackerSettings): ProgressTracker {
  return new ProgressTracker(settings);
}

/** How the outputs ended, once all settled (the first failure decides). */
async function outcomeOf(outputs: readonly Future[]): Promise<Exclude<ProgressState, "running">> {
  try {
    await Promise.all(outputs.map((f) => f.wait()));
    return "finished";
  } catch (e) {
    if (e instanceof TaskCancelled || e instanceof FutureReleased) return "cancelled";
    if (e instanceof ConnectionLost || e instanceof ClientClosed) return "lost";
    if (e instanceof RemoteError) return "failed";
    return "failed";
  }
}

/**
 * How the outputs ended — or `cancelled` once one of them is released before (a released
 * future's wait never settles), checked every `everyMs`.
 */
async function untilReleased(
  ended: Promise<Exclude<ProgressState, "running">>,
  outputs: readonly Future[],
  everyMs: number,
): Promise<Exclude<ProgressState, "running">> {
  const stop = new AbortController();
  const released = (async () => {
    while (!stop.signal.aborted) {
      await sleep(everyMs, stop.signal);
      if (outputs.some((f) => f.released)) return "cancelled" as const;
    }
    return "cancelled" as const;
  })();
  try {
    return await Promise.race([ended, released]);
  } finally {
    stop.abort();
  }
}

function isState(value: unknown): value is string {
  return typeof value === "string" && value !== "forgotten";
}

function placeOf(state: unknown, graphSeen: boolean, before: Place): Place {
  switch (state) {
    case "memory":
      return Place.Memory;
    case "erred":
      return Place.Erred;
    case "processing":
      return Place.Processing;
    case "waiting":
    case "queued":
    case "no-worker":
    case "released":
      return Place.Waiting;
    default:
      // Unknown to the scheduler: not arrived yet, or computed and released since.
      return graphSeen ? Place.Memory : before;
  }
}

/** A key's identity for matching replies: strings as they are, tuples as JSON. */
export function keyId(key: TaskKey | unknown): string {
  if (typeof key === "string") return key;
  return JSON.stringify(key, (_, v) => typeof v === "bigint" ? Number(v) : v);
}

/**
 * The reports of a call that takes an `onProgress` listener, as an async iterable: `run` gets
 * the listener to pass on, and iterating ends once its result has settled and every computation
 * it reported on has sent its final report.
 *
 * ```ts
 * const { result, progress } = withProgress((onProgress) => mc.computeAll(exprs, { onProgress }));
 * for await (const p of progress) console.log(p.site, `${p.memory}/${p.total}`);
 * const outcomes = await result;
 * ```
 * Iterating never throws; a failure of the call rejects `result`.
 */
export function withProgress<T>(
  run: (onProgress: ProgressListener) => Promise<T>,
): { readonly result: Promise<T>; readonly progress: AsyncIterable<TaskProgress> } {
  const queue: TaskProgress[] = [];
  const open = new Set<string>();
  let settled = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const onProgress: ProgressListener = (p) => {
    if (p.final) open.delete(p.id);
    else open.add(p.id);
    queue.push(p);
    notify();
  };
  let result: Promise<T>;
  try {
    result = Promise.resolve(run(onProgress));
  } catch (e) {
    result = Promise.reject(e);
  }
  let giveUp: ReturnType<typeof setTimeout> | undefined;
  result.then(() => {}, () => {}).finally(() => {
    settled = true;
    // A final report follows its outputs at once; a lost one is not waited for forever.
    if (open.size > 0) {
      giveUp = setTimeout(() => {
        open.clear();
        notify();
      }, 10_000);
    }
    notify();
  });
  async function* reports(): AsyncGenerator<TaskProgress> {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (settled && open.size === 0) {
        clearTimeout(giveUp);
        return;
      }
      await new Promise<void>((r) => wake = r);
    }
  }
  return { result, progress: { [Symbol.asyncIterator]: reports } };
}
