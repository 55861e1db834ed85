import assert from "node:assert/strict";
import { PYTHON_ERAS } from "../../tests/replica/python_env.ts";
import { Client } from "./client.ts";
import { RemoteError } from "../errors.ts";
import { py } from "../graph/py.ts";
import { LocalCluster } from "../testing/local_cluster.ts";
import { sleepyArray } from "../testing/sleepy_array.ts";
import { collectionGraphBuilder } from "../graph/collection_graph.ts";
import { collectGraph } from "../graph/task_graph.ts";
import {
  keyId,
  ProgressPoller,
  type TaskKey,
  type TaskProgress,
  trackProgress,
  withProgress,
} from "./progress.ts";
import { Future } from "./future.ts";
import { KeyState } from "./key_state.ts";

/** Bound on every wait, so a bug fails the test instead of hanging it. */
const WAIT = { timeoutMs: 120_000 };

function step(t: Deno.TestContext, name: string, fn: () => Promise<void>) {
  return t.step({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

/** Collects the reports of one computation and checks their invariants as they come. */
class Reports {
  readonly all: TaskProgress[] = [];
  readonly onProgress = (p: TaskProgress) => {
    assert.equal(p.waiting + p.processing + p.memory + p.erred, p.total, JSON.stringify(p));
    assert.equal(p.final, p.state !== "running");
    const finals = this.all.filter((r) => r.final).length;
    assert.equal(finals, 0, `a report after the final one: ${JSON.stringify(p)}`);
    this.all.push(p);
  };
  /** Resolves with the final report (the tracker sends it right after the outputs settle). */
  async final(ms = 10_000): Promise<TaskProgress> {
    const deadline = Date.now() + ms;
    for (;;) {
      const last = this.all.at(-1);
      if (last?.final) return last;
      if (Date.now() > deadline) throw new Error("no final report");
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** The keys of finished tasks in the scheduler's task stream (as the scheduler names them). */
async function finishedKeys(client: Client): Promise<Set<string>> {
  const records = await client.rpc("get_task_stream", {}) as Record<string, unknown>[];
  return new Set(records.map((r) => keyId(r.key)));
}

Deno.test("progress - withProgress ends after the call and every final report", async () => {
  let finish!: (v: number) => void;
  let listener!: (p: TaskProgress) => void;
  const { result, progress } = withProgress((onProgress) => {
    listener = onProgress;
    onProgress({ ...blank("a"), state: "running", final: false });
    onProgress({ ...blank("b"), state: "running", final: false });
    return new Promise<number>((r) => finish = r);
  });
  const seen: string[] = [];
  let ended = false;
  const iterating = (async () => {
    for await (const p of progress) seen.push(`${p.id}:${p.state}`);
    ended = true;
  })();
  finish(42);
  assert.equal(await result, 42);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(seen, ["a:running", "b:running"]);
  assert.equal(ended, false, "a and b have not sent their final reports");
  listener({ ...blank("a"), state: "finished", final: true });
  listener({ ...blank("b"), state: "failed", final: true });
  await iterating;
  assert.deepEqual(seen, ["a:running", "b:running", "a:finished", "b:failed"]);

  // A failing call rejects its result; iterating just ends.
  const failing = withProgress<never>(() => Promise.reject(new Error("boom")));
  for await (const _ of failing.progress) assert.fail("no report");
  await assert.rejects(failing.result, /boom/);
});

function blank(id: string): Omit<TaskProgress, "state" | "final"> {
  return { id, total: 0, waiting: 0, processing: 0, memory: 0, erred: 0, elapsedMs: 0 };
}

for (
  const era of [
    "dedl",
    "current",
    ...PYTHON_ERAS.filter((e) => e !== "dedl" && e !== "current"),
  ] as const
) {
  Deno.test(`progress - ${era}: counts the computation's own tasks as the scheduler reports them`, async (t) => {
    await using cluster = await LocalCluster.start({ era, workers: 2, threadsPerWorker: 1 });
    await using client = await Client.connect(cluster.address);
    await client.rpc("get_task_stream", { count: 0 }); // installs the task stream

    await step(
      t,
      "a collection: every chunk task, reported while it runs, then finished",
      async () => {
        const reports = new Reports();
        const before = await finishedKeys(client);
        const collection = py.collection(sleepyArray(12, 0.3).method("sum"));
        const future = await client.computeCollection(
          collection,
          { ...WAIT, onProgress: reports.onProgress, progressIntervalMs: 100 },
        );
        const value = await future.result(WAIT);
        assert.equal(Number(value), 12_000);
        const final = await reports.final();
        future.release();
        assert.equal(final.state, "finished");
        assert.equal(final.memory, final.total);
        assert.equal(final.erred, 0);
        // The total is the graph the scheduler ran: every task it finished for this collection,
        // but for the tasks that built the graph on a worker.
        const ran = [...await finishedKeys(client)].filter((k) => !before.has(k));
        const form = client.dialect.tupleKeys ? "as-is" : "str";
        const builder = collectGraph(
          [collectionGraphBuilder(collection, client.dialect.era, form)],
          () => false,
        );
        assert.equal(
          final.total,
          ran.length - builder.size,
          `the scheduler ran ${ran.length} tasks`,
        );
        assert.ok(final.total > 12, `total ${final.total}`);
        // Reports came while it ran: some with work in flight, counts never going back.
        const running = reports.all.filter((p) => !p.final);
        assert.ok(running.length >= 3, `${running.length} running reports`);
        assert.equal(running[0].memory, 0);
        assert.ok(
          // Chunk keys matched: chunks seen running and computed while others still wait.
          running.some((p) => p.processing > 0 && p.memory > 0 && p.memory < p.total - 1),
          JSON.stringify(running.map((p) => [p.waiting, p.processing, p.memory])),
        );
        for (let i = 1; i < reports.all.length; i++) {
          assert.ok(reports.all[i].memory >= reports.all[i - 1].memory, "memory never decreases");
          assert.ok(reports.all[i].elapsedMs >= reports.all[i - 1].elapsedMs);
        }
        // Bounded rate: no two running reports closer than the interval (the first is immediate).
        for (let i = 2; i < running.length; i++) {
          assert.ok(running[i].elapsedMs - running[i - 1].elapsedMs >= 90);
        }
      },
    );

    await step(t, "a plain graph: its nodes, not other work running beside it", async () => {
      const reports = new Reports();
      const leaves = Array.from({ length: 8 }, (_, i) => py.call("time.sleep", 0.2 + i / 1000));
      const total = py.call("builtins.len", leaves);
      // Unrelated work at the same time, with the same functions.
      const other = client.map(py.fn("time.sleep"), [0.25, 0.26, 0.27, 0.28]);
      const future = client.compute(total, {
        onProgress: reports.onProgress,
        progressIntervalMs: 50,
      });
      assert.equal(await future.result(WAIT), 8);
      const final = await reports.final();
      assert.deepEqual(
        [final.total, final.memory, final.state],
        [9, 9, "finished"],
        JSON.stringify(reports.all),
      );
      assert.ok(reports.all.every((p) => p.total === 9));
      await client.gather(other);
      for (const f of other) f.release();
      future.release();
    });

    await step(t, "map: all its tasks as one computation", async () => {
      const reports = new Reports();
      const futures = client.map(py.fn("operator.neg"), Array.from({ length: 200 }, (_, i) => i), {
        onProgress: reports.onProgress,
      });
      const values = await client.gather(futures);
      assert.equal(values.length, 200);
      const final = await reports.final();
      assert.deepEqual([final.total, final.memory, final.state], [200, 200, "finished"]);
      for (const f of futures) f.release();
    });

    await step(
      t,
      "a failure: the final report says failed and counts the failed tasks",
      async () => {
        const reports = new Reports();
        const bad = py.call("operator.truediv", 1, 0);
        const node = py.call("operator.add", py.call("time.sleep", 0.2), bad);
        const future = client.compute(node, {
          onProgress: reports.onProgress,
          progressIntervalMs: 50,
        });
        await assert.rejects(future.result(WAIT), RemoteError);
        const final = await reports.final();
        assert.equal(final.state, "failed");
        assert.ok(final.erred >= 2, `erred ${final.erred}: the division and what depends on it`);
        assert.equal(reports.all.filter((p) => p.final).length, 1);
        future.release();
      },
    );

    await step(t, "cancelled: the final report says so, once", async () => {
      const reports = new Reports();
      const future = client.compute(py.call("time.sleep", 30), { onProgress: reports.onProgress });
      await new Promise((r) => setTimeout(r, 300));
      await future.cancel();
      const final = await reports.final();
      assert.equal(final.state, "cancelled");
      assert.equal(final.total, 1);
      future.release();
    });

    await step(t, "the async-iterable form gives the same reports and the result", async () => {
      const { result, progress } = withProgress(async (onProgress) => {
        const f = client.compute(py.call("operator.mul", py.call("time.sleep", 0.3), 2), {
          onProgress,
          progressIntervalMs: 50,
        });
        try {
          return await f.result(WAIT);
        } finally {
          f.release();
        }
      });
      const seen: TaskProgress[] = [];
      for await (const p of progress) seen.push(p);
      await assert.rejects(result, RemoteError); // time.sleep gives None: None * 2 fails
      assert.equal(seen.at(-1)?.state, "failed");
      assert.ok(seen.length >= 2);
    });
  });
}

Deno.test("progress - one request per round for every computation of a client", async () => {
  // A stand-in scheduler (a unit test of the rounds; the real ones are above): it knows the
  // keys it was given, and answers each poll from a table.
  const calls: TaskKey[][] = [];
  const states = new Map<string, string>([["a-1", "processing"], ["b-1", "waiting"], [
    "b-2",
    "memory",
  ]]);
  const poller = new ProgressPoller((keys) => {
    calls.push(keys);
    return Promise.resolve(
      Object.fromEntries(keys.map((k) => [keyId(k), states.get(keyId(k)) ?? null])),
    );
  });
  const owner = {
    result: () => Promise.resolve(undefined),
    cancel: () => Promise.resolve(),
    release: () => {},
  };
  const a = new KeyState("a-1");
  const b = new KeyState("b-1");
  const reports = { a: new Reports(), b: new Reports() };
  const ta = trackProgress({
    keys: ["a-1"],
    outputs: [new Future("a-1", {}, a, owner)],
    poller,
    onProgress: reports.a.onProgress,
    progressIntervalMs: 20,
  });
  const tb = trackProgress({
    keys: ["b-2", "b-1"],
    outputs: [new Future("b-1", {}, b, owner)],
    poller,
    onProgress: reports.b.onProgress,
    progressIntervalMs: 20,
  });
  while (calls.length < 3) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(calls[0].map((k) => keyId(k)).sort(), ["a-1", "b-1", "b-2"], "both in one");
  assert.deepEqual(calls[2].map((k) => keyId(k)).sort(), ["a-1", "b-1"], "done keys not asked");
  assert.deepEqual(
    [reports.b.all.at(-1)!.memory, reports.b.all.at(-1)!.waiting, reports.a.all.at(-1)!.processing],
    [1, 1, 1],
  );
  a.finish();
  b.fail("error", new RemoteError("b-1", "ValueError", "builtins", "no", ""));
  await Promise.all([ta.done, tb.done]);
  assert.equal((await reports.a.final()).state, "finished");
  assert.equal((await reports.b.final()).state, "failed");
  const after = calls.length;
  await new Promise((r) => setTimeout(r, 80));
  assert.ok(calls.length <= after + 1, "the rounds stop with the last computation");
});
