import assert from "node:assert/strict";
import { JUPYTER_DISPLAY } from "../../base/mod.ts";
import type { TaskProgress } from "./progress.ts";
import { ProgressBoard, progressLine, showProgress } from "./progress_board.ts";

function report(site: string | undefined, memory: number, extra: Partial<TaskProgress> = {}) {
  const base: TaskProgress = {
    id: `${site}-1`,
    ...(site ? { site } : {}),
    total: 1000,
    waiting: 1000 - memory - 4,
    processing: 4,
    memory,
    erred: 0,
    elapsedMs: 4_000,
    state: "running",
    final: false,
  };
  return { ...base, ...extra };
}

Deno.test("progress board - one row per computation, the latest report, in first-seen order", () => {
  const board = new ProgressBoard();
  board.onProgress(report("lumi", 100));
  board.onProgress(report("central", 250));
  board.onProgress(report("lumi", 500));
  assert.deepEqual(board.rows().map((r) => [r.label, r.done, r.ratePerSecond]), [
    ["lumi", 500, 125],
    ["central", 250, 62.5],
  ]);
  assert.equal(board.settled, false);
  assert.equal(
    progressLine(board.rows()[0], 10),
    "lumi       █████░░░░░    500/1 000 tasks   50%    125/s    4.0 s  4 running",
  );
  const html = board[JUPYTER_DISPLAY]()["text/html"];
  assert.equal(html.match(/<span style="min-width:7em">/g)?.length, 2);
  assert.match(html, /width:50\.00%;background:#4caf50/, "computed share of the bar");
  board.onProgress(
    report("lumi", 990, { erred: 10, processing: 0, waiting: 0, state: "failed", final: true }),
  );
  board.onProgress(
    report("central", 1000, { processing: 0, waiting: 0, state: "finished", final: true }),
  );
  assert.equal(board.settled, true);
  assert.match(
    progressLine(board.rows()[0], 0),
    /1 000\/1 000 tasks +100% .* failed \(10 erred\)$/,
  );
  assert.match(board.text(), /\ncentral .* done$/);
  assert.match(progressLine(board.rows()[0], 0), /^lumi/);
  assert.equal(new ProgressBoard().rows().length, 0);
  assert.equal(progressLine({ ...board.rows()[1], label: "tasks" }, 0).slice(0, 5), "tasks");
});

Deno.test("progress board - showProgress does nothing outside a notebook", () => {
  const listener = showProgress();
  listener(report(undefined, 1));
});
