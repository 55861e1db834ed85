/**
 * Load: 50 000 tasks through one client and 20 clients at once keep the client's memory bounded
 * and leave nothing on the scheduler, against real schedulers and workers. Each measurement runs
 * in a process of its own (protocol/testing/load_child.ts), so that only the load counts.
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { LocalCluster } from "../testing/local_cluster.ts";
import type { LoadReport } from "../testing/load_child.ts";

const CHILD = fileURLToPath(new URL("../testing/load_child.ts", import.meta.url));
const MiB = 1024 * 1024;

/** Runs one measurement in a child process; rejects with its stderr when it fails. */
async function measure(args: string[]): Promise<LoadReport> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", CHILD, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(300_000),
  });
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`load child failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as LoadReport;
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

/**
 * Runs `[mode, ...counts]` against a fresh DEDL-release cluster (one worker, two threads); gives
 * the report and its figures in words for assertion messages.
 */
async function measureOnDedl(
  [mode, ...counts]: string[],
): Promise<{ r: LoadReport; facts: string }> {
  await using cluster = await LocalCluster.start({ era: "dedl", workers: 1, threadsPerWorker: 2 });
  const r = await measure([mode, cluster.address, ...counts]);
  const facts = `peak RSS +${mib(r.peakRssGrowth)}, retained heap ${mib(r.retainedHeap)}, ` +
    `${r.tasksLeft} tasks left, ${Math.round(r.ms)} ms`;
  return { r, facts };
}

// DEDL's release only: 50 000 tasks cost its scheduler and worker ~2.7 ms of CPU each on a
// 2-core machine (about 2 minutes, the same for Python's client), the newest release as much.
Deno.test({
  name: "load (dedl) - 50 000 tasks through one client: bounded memory, every key released",
  sanitizeResources: false,
  fn: async () => {
    const { r, facts } = await measureOnDedl(["one-client", "50000"]);
    assert.equal(r.tasks, 50_000);
    // Measured: +118 MiB for 50 000 futures, their graph and their values. A promise chain per
    // future, as before one watcher served them all, took +40-55 MiB per 10 000.
    assert.ok(r.peakRssGrowth < 180 * MiB, `peak RSS grew too much: ${facts}`);
    // Measured: 6.7 MiB — hash tables sized for 50 000 keys, kept for the next load (four rounds
    // of 5 000: 0.53, 0.63, 0.64, 0.66 MiB, no growth). A future and its key state kept per task
    // (~200 bytes) would add 10 MiB.
    assert.ok(r.retainedHeap < 12 * MiB, `heap retained after release: ${facts}`);
    assert.equal(r.tasksLeft, 0, `the scheduler still holds tasks: ${facts}`);
  },
});

Deno.test({
  name: "load (dedl) - 20 clients at once: bounded memory, nothing left once closed",
  sanitizeResources: false,
  fn: async () => {
    const { r, facts } = await measureOnDedl(["many-clients", "20", "250"]);
    assert.equal(r.tasks, 5_000);
    // Measured: +13 MiB for 20 connections (a stream and an RPC comm each) and 5 000 tasks.
    assert.ok(r.peakRssGrowth < 60 * MiB, `peak RSS grew too much: ${facts}`);
    // Measured: 1.1 MiB once the 20 clients are closed: their comms, timers, listeners and key
    // tables are garbage.
    assert.ok(r.retainedHeap < 3 * MiB, `heap retained after closing: ${facts}`);
    assert.equal(r.tasksLeft, 0, `the scheduler still holds tasks: ${facts}`);
  },
});
