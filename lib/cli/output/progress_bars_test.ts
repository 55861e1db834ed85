import assert from "node:assert/strict";
import type { TaskProgress } from "../../../protocol/mod.ts";
import { TerminalProgress } from "./progress_bars.ts";

function report(site: string, memory: number, final = false): TaskProgress {
  return {
    id: `${site}-1`,
    site,
    total: 10,
    waiting: 10 - memory - (final ? 0 : 1),
    processing: final ? 0 : 1,
    memory,
    erred: 0,
    elapsedMs: 2_000,
    state: final ? "finished" : "running",
    final,
  };
}

Deno.test("terminal progress - live bars are redrawn in place, one line per site", () => {
  const out: string[] = [];
  const bars = new TerminalProgress({ live: true, write: (t) => out.push(t) });
  bars.onProgress(report("central", 0));
  bars.onProgress(report("lumi", 2));
  bars.onProgress(report("central", 5));
  assert.equal(out.length, 3);
  assert.ok(!out[0].includes("\x1b[1A"), "the first bar moves no cursor");
  // Each redraw goes back over the lines drawn before it, then draws every bar again.
  assert.ok(out[1].startsWith("\x1b[1A"));
  assert.ok(out[2].startsWith("\x1b[2A"));
  const lines = out[2].split("\n").filter(Boolean);
  assert.equal(lines.length, 2);
  assert.match(lines[0], /central +█+░+ +5\/10 tasks +50% +2\.5\/s +2\.0 s +1 running/);
  assert.match(lines[1], /lumi +█+░+ +2\/10 tasks +20% /);
  // Once every bar has ended they stay; a new computation starts below them.
  bars.onProgress(report("central", 10, true));
  bars.onProgress(report("lumi", 10, true));
  assert.match(out.at(-1)!, /lumi .*10\/10 tasks +100% .* done/);
  bars.onProgress({ ...report("central", 0), id: "central-2" });
  assert.ok(!out.at(-1)!.startsWith("\x1b["), "nothing redrawn above the ended bars");
});

Deno.test("terminal progress - plain lines: at start, at most every interval, and the last", () => {
  const out: string[] = [];
  const bars = new TerminalProgress({
    live: false,
    plainEveryMs: 60_000,
    write: (t) => out.push(t),
  });
  bars.onProgress(report("central", 0));
  bars.onProgress(report("central", 3));
  bars.onProgress(report("central", 10, true));
  assert.deepEqual(out, [
    "progress central  0/10 tasks  0%  0.0/s  2.0 s  1 running\n",
    "progress central  10/10 tasks  100%  5.0/s  2.0 s  done\n",
  ]);
  assert.ok(out.every((l) => !l.includes("\x1b")));
});
