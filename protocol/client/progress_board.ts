/**
 * Progress reports drawn for people: a board keeps the latest report of each computation (or
 * site) and renders one bar per row — as text lines for a terminal and as HTML for a notebook —
 * with tasks done / total, rate and elapsed time. {@link showProgress} keeps such a board up to
 * date as one notebook output, updated in place.
 * @module
 */
import {
  escapeHtml,
  inJupyterKernel,
  JUPYTER_DISPLAY,
  type MimeBundle,
  showInNotebook,
} from "../../base/mod.ts";
import type { ProgressListener, ProgressState, TaskProgress } from "./progress.ts";

/** One row of a {@link ProgressBoard}: a computation's (or a site's) latest report, read. */
export interface ProgressRow {
  /** The report's `id`. */
  readonly id: string;
  /** The site, else `"tasks"`. */
  readonly label: string;
  /** Tasks in all. */
  readonly total: number;
  /** Tasks computed or failed. */
  readonly done: number;
  /** Tasks not started. */
  readonly waiting: number;
  /** Tasks running. */
  readonly processing: number;
  /** Tasks computed. */
  readonly memory: number;
  /** Tasks failed. */
  readonly erred: number;
  /** Milliseconds since the computation was asked for. */
  readonly elapsedMs: number;
  /** Tasks done per second since the computation was asked for. */
  readonly ratePerSecond: number;
  /** `running`, or how it ended. */
  readonly state: ProgressState;
  /** Whether the computation has ended. */
  readonly final: boolean;
}

/** The latest report of each computation, in the order they first reported. */
export class ProgressBoard {
  readonly #latest = new Map<string, TaskProgress>();

  /** Records a report (pass this as `onProgress`). */
  readonly onProgress: ProgressListener = (p) => {
    this.#latest.set(p.id, p);
  };

  /** The rows, oldest first. */
  rows(): ProgressRow[] {
    return [...this.#latest.values()].map(rowOf);
  }

  /** Whether every row has had its final report. */
  get settled(): boolean {
    return [...this.#latest.values()].every((p) => p.final);
  }

  /** One line per row (see {@link progressLine}). */
  text(barWidth = 24): string {
    return this.rows().map((r) => progressLine(r, barWidth)).join("\n");
  }

  /** One HTML bar per row, with a plain-text fallback. */
  [JUPYTER_DISPLAY](): MimeBundle {
    const rows = this.rows();
    return {
      "text/plain": rows.length ? this.text() : "no progress reported yet",
      "text/html": `<div class="dedl-dask-progress">${rows.map(htmlRow).join("")}</div>`,
    };
  }
}

function rowOf(p: TaskProgress): ProgressRow {
  const done = p.memory + p.erred;
  return {
    id: p.id,
    label: p.site ?? "tasks",
    total: p.total,
    done,
    waiting: p.waiting,
    processing: p.processing,
    memory: p.memory,
    erred: p.erred,
    elapsedMs: p.elapsedMs,
    ratePerSecond: p.elapsedMs > 0 ? done / (p.elapsedMs / 1000) : 0,
    state: p.state,
    final: p.final,
  };
}

/**
 * A row as one line:
 * `central  ██████████░░░░░░░░░░░░░░   512/1 281 tasks  40%  87/s  5.9 s  3 running`.
 */
export function progressLine(row: ProgressRow, barWidth = 24): string {
  const fraction = row.total > 0 ? row.done / row.total : row.final ? 1 : 0;
  const filled = Math.round(fraction * barWidth);
  const bar = barWidth > 0 ? `${"█".repeat(filled)}${"░".repeat(barWidth - filled)}  ` : "";
  const counts = `${count(row.done)}/${count(row.total)} tasks`;
  const tail = row.final
    ? (row.state === "finished" ? "done" : row.state) + (row.erred ? ` (${row.erred} erred)` : "")
    : `${row.processing} running` + (row.erred ? `, ${row.erred} erred` : "");
  return `${row.label.padEnd(10)} ${bar}${counts.padStart(17)}  ${
    `${Math.floor(fraction * 100)}%`.padStart(4)
  }  ${rate(row.ratePerSecond).padStart(7)}  ${seconds(row.elapsedMs).padStart(7)}  ${tail}`;
}

function count(n: number): string {
  return n.toLocaleString("en-US").replaceAll(",", " ");
}

function rate(perSecond: number): string {
  return perSecond >= 10 ? `${Math.round(perSecond)}/s` : `${perSecond.toFixed(1)}/s`;
}

function seconds(ms: number): string {
  return ms >= 60_000
    ? `${Math.floor(ms / 60_000)}m${String(Math.round(ms / 1000) % 60).padStart(2, "0")}s`
    : `${(ms / 1000).toFixed(1)} s`;
}

const COLORS = { memory: "#4caf50", processing: "#2196f3", erred: "#e53935", rest: "#e0e0e0" };

function htmlRow(row: ProgressRow): string {
  const pct = (n: number) => (row.total > 0 ? (100 * n) / row.total : 0).toFixed(2);
  const segment = (n: number, color: string) =>
    n > 0 ? `<div style="width:${pct(n)}%;background:${color}"></div>` : "";
  const status = row.final
    ? (row.state === "finished" ? "done" : row.state)
    : `${row.processing} running`;
  return `<div style="display:flex;align-items:center;gap:8px;margin:2px 0;font-family:monospace">` +
    `<span style="min-width:7em">${escapeHtml(row.label)}</span>` +
    `<div style="display:flex;width:260px;height:12px;background:${COLORS.rest}">` +
    segment(row.memory, COLORS.memory) + segment(row.processing, COLORS.processing) +
    segment(row.erred, COLORS.erred) + `</div>` +
    `<span>${
      escapeHtml(
        `${count(row.done)} / ${count(row.total)} tasks · ${rate(row.ratePerSecond)} · ${
          seconds(row.elapsedMs)
        } · ${status}`,
      )
    }${
      row.erred ? ` · <span style="color:${COLORS.erred}">${row.erred} erred</span>` : ""
    }</span></div>`;
}

let boards = 0;

/**
 * In a Deno Jupyter notebook: a listener that shows one progress output (a bar per site or
 * computation) on its first report and updates it in place, at most every `intervalMs` (final
 * reports at once). Outside a notebook the listener does nothing.
 *
 * ```ts
 * const results = await mc.computeAll(exprs, { onProgress: showProgress() });
 * ```
 */
export function showProgress(options: { intervalMs?: number } = {}): ProgressListener {
  if (!inJupyterKernel()) return () => {};
  const board = new ProgressBoard();
  const displayId = `dedl-dask-progress-${++boards}-${Date.now()}`;
  const intervalMs = options.intervalMs ?? 250;
  let shown = false;
  let last = -Infinity;
  let chain = Promise.resolve();
  let trailing: ReturnType<typeof setTimeout> | undefined;
  const draw = () => {
    clearTimeout(trailing);
    trailing = undefined;
    last = performance.now();
    const bundle = board[JUPYTER_DISPLAY]();
    const update = shown;
    shown = true;
    // In order: the first display must reach the notebook before its updates.
    chain = chain.then(() => showInNotebook(bundle, displayId, update));
  };
  return (p) => {
    board.onProgress(p);
    if (p.final || performance.now() - last >= intervalMs) draw();
    else trailing ??= setTimeout(draw, intervalMs);
  };
}
