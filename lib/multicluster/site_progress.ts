/**
 * Progress of one `compute` or `computeAll` call, per site: the reports of every computation the
 * call runs at a site are summed into one report for that site (tagged with it), sent at a
 * bounded rate, and ended by one final report once every computation there has ended.
 * @module
 */
import type { ProgressListener, ProgressState, TaskProgress } from "../../protocol/mod.ts";

/** How long a computation's own final report is awaited after its result is known. */
const FINAL_REPORT_MS = 5_000;
const DEFAULT_INTERVAL_MS = 250;

let calls = 0;

/** One computation's part in its site's report. */
export interface SiteProgressMember {
  /** The listener to hand to the site's client for this computation. */
  readonly onProgress: ProgressListener;
  /**
   * Ends this computation's part once its result is known: waits (bounded) for its own final
   * report, else ends it with `state` (e.g. a failure before anything was submitted).
   */
  settle(state: Exclude<ProgressState, "running">): Promise<void>;
}

/** The per-site reports of one call. */
export class CallProgress {
  readonly #listener: ProgressListener;
  readonly #intervalMs: number;
  readonly #startedAt = performance.now();
  readonly #call = ++calls;
  readonly #sites = new Map<string, SiteReport>();

  /** Reports to `listener`, at most every `intervalMs` per site (final reports at once). */
  constructor(listener: ProgressListener, intervalMs: number = DEFAULT_INTERVAL_MS) {
    this.#listener = listener;
    this.#intervalMs = intervalMs;
  }

  /** Adds a computation at `site`; its site's final report waits for it to end. */
  join(site: string): SiteProgressMember {
    let report = this.#sites.get(site);
    if (!report) {
      report = new SiteReport(
        `${site}-${this.#call}`,
        site,
        this.#startedAt,
        this.#intervalMs,
        this.#listener,
      );
      this.#sites.set(site, report);
    }
    return report.join();
  }
}

interface Part {
  last: TaskProgress | undefined;
  ended: boolean;
  endedSignal: () => void;
  endedPromise: Promise<void>;
}

class SiteReport {
  readonly #parts: Part[] = [];
  #lastEmit = -Infinity;
  #trailing: ReturnType<typeof setTimeout> | undefined;
  #final = false;

  constructor(
    readonly id: string,
    readonly site: string,
    readonly startedAt: number,
    readonly intervalMs: number,
    readonly listener: ProgressListener,
  ) {}

  join(): SiteProgressMember {
    let endedSignal!: () => void;
    const endedPromise = new Promise<void>((r) => endedSignal = r);
    const part: Part = { last: undefined, ended: false, endedSignal, endedPromise };
    this.#parts.push(part);
    const end = (state: ProgressState) => {
      if (part.ended) return;
      part.ended = true;
      part.last = { ...(part.last ?? blank(this.id)), state, final: true };
      part.endedSignal();
      this.#changed();
    };
    return {
      onProgress: (p) => {
        if (part.ended) return;
        part.last = p;
        if (p.final) end(p.state);
        else this.#changed();
      },
      settle: async (state) => {
        if (!part.ended) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([
            part.endedPromise,
            new Promise<void>((r) => timer = setTimeout(r, part.last ? FINAL_REPORT_MS : 0)),
          ]);
          clearTimeout(timer);
        }
        end(state);
      },
    };
  }

  #changed(): void {
    if (this.#final) return;
    if (this.#parts.every((p) => p.ended)) {
      this.#final = true;
      clearTimeout(this.#trailing);
      this.#emit();
      return;
    }
    const wait = this.#lastEmit + this.intervalMs - performance.now();
    if (wait <= 0) {
      this.#emit();
    } else if (this.#trailing === undefined) {
      this.#trailing = setTimeout(() => {
        this.#trailing = undefined;
        if (!this.#final) this.#emit();
      }, wait);
    }
  }

  #emit(): void {
    this.#lastEmit = performance.now();
    let total = 0, waiting = 0, processing = 0, memory = 0, erred = 0;
    for (const { last } of this.#parts) {
      if (!last) continue;
      total += last.total;
      waiting += last.waiting;
      processing += last.processing;
      memory += last.memory;
      erred += last.erred;
    }
    const report: TaskProgress = {
      id: this.id,
      site: this.site,
      total,
      waiting,
      processing,
      memory,
      erred,
      elapsedMs: Math.round(this.#lastEmit - this.startedAt),
      state: this.#final ? endState(this.#parts.map((p) => p.last?.state)) : "running",
      final: this.#final,
    };
    try {
      this.listener(report);
    } catch {
      // A listener's failure must not change the computations it watches.
    }
  }
}

/** A site's ending: the worst of its computations' (failed, lost, cancelled, finished). */
function endState(states: readonly (ProgressState | undefined)[]): ProgressState {
  for (const s of ["failed", "lost", "cancelled"] as const) if (states.includes(s)) return s;
  return "finished";
}

function blank(id: string): TaskProgress {
  return {
    id,
    total: 0,
    waiting: 0,
    processing: 0,
    memory: 0,
    erred: 0,
    elapsedMs: 0,
    state: "running",
    final: false,
  };
}
