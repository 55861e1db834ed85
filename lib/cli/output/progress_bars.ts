/**
 * Compute progress on stderr: on a terminal, a live bar per site (or computation) redrawn in
 * place; otherwise plain lines — one when a computation starts, one at most every
 * `plainEveryMs` while it runs, and its last. stdout is never written, so results and `--json`
 * output stay clean.
 * @module
 */
import {
  ProgressBoard,
  progressLine,
  type ProgressListener,
  type ProgressRow,
  type TaskProgress,
} from "../../../protocol/mod.ts";

/** Settings of {@link TerminalProgress}. */
export interface TerminalProgressOptions {
  /** Draw live bars (else plain lines). Default: whether stderr is a terminal. */
  readonly live?: boolean;
  /** Plain mode: least time between two lines of one computation. Default 10 000 ms. */
  readonly plainEveryMs?: number;
  /** Where lines go. Default stderr. */
  readonly write?: (text: string) => void;
}

/**
 * Draws the progress reports it is given (pass {@link onProgress} as a compute call's
 * `onProgress`, or as `MultiCluster.connect({ onComputeProgress })`).
 */
export class TerminalProgress {
  readonly #live: boolean;
  readonly #plainEveryMs: number;
  readonly #write: (text: string) => void;
  /** The bars being redrawn: those of the computations under way and of the latest ended. */
  #board = new ProgressBoard();
  #drawnLines = 0;
  readonly #lastPlain = new Map<string, number>();

  /** Draws on stderr unless `options.write` says otherwise. */
  constructor(options: TerminalProgressOptions = {}) {
    this.#live = options.live ?? Deno.stderr.isTerminal();
    this.#plainEveryMs = options.plainEveryMs ?? 10_000;
    this.#write = options.write ?? writeStderr;
  }

  /** The listener to pass on. */
  readonly onProgress: ProgressListener = (p) => {
    if (this.#live) this.#drawLive(p);
    else this.#drawPlain(p);
  };

  #drawLive(p: TaskProgress): void {
    // Once every bar shown has ended, they stay on screen as they are; new ones start below.
    if (this.#board.settled && !this.#board.rows().some((r) => r.id === p.id)) {
      this.#board = new ProgressBoard();
      this.#drawnLines = 0;
    }
    this.#board.onProgress(p);
    const width = columns();
    const lines = this.#board.rows().map((r) => fit(progressLine(r, barWidth(width)), width));
    const up = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}A` : "";
    this.#write(`${up}${lines.map((l) => `\r${l}\x1b[K\n`).join("")}`);
    this.#drawnLines = lines.length;
  }

  #drawPlain(p: TaskProgress): void {
    const now = performance.now();
    const last = this.#lastPlain.get(p.id);
    if (!p.final && last !== undefined && now - last < this.#plainEveryMs) return;
    this.#lastPlain.set(p.id, now);
    if (p.final) this.#lastPlain.delete(p.id);
    this.#write(`progress ${plainLine(rowOf(p))}\n`);
  }
}

function rowOf(p: TaskProgress): ProgressRow {
  const board = new ProgressBoard();
  board.onProgress(p);
  return board.rows()[0];
}

function plainLine(row: ProgressRow): string {
  return progressLine(row, 0).replace(/\s{2,}/g, "  ").trim();
}

function barWidth(columns: number): number {
  return Math.max(0, Math.min(30, columns - 70));
}

function fit(line: string, width: number): string {
  const chars = [...line];
  return chars.length < width ? line : chars.slice(0, Math.max(1, width - 2)).join("") + "…";
}

function columns(): number {
  try {
    return Deno.consoleSize().columns || 100;
  } catch {
    return 100;
  }
}

const encoder = new TextEncoder();

function writeStderr(text: string): void {
  try {
    let bytes = encoder.encode(text);
    while (bytes.length > 0) bytes = bytes.subarray(Deno.stderr.writeSync(bytes));
  } catch {
    // A closed terminal must not turn a progress display into a failure.
  }
}
