import assert from "node:assert/strict";
import { asCompleted } from "./as_completed.ts";
import { Client } from "./client.ts";
import { InvalidArgument, RemoteError, RequestTimeout, TaskCancelled } from "../errors.ts";
import type { Future } from "./future.ts";
import { py } from "../graph/py.ts";
import { LocalCluster } from "../testing/local_cluster.ts";
import { wait } from "./wait.ts";

const WAIT = { timeoutMs: 60_000 };

function step(t: Deno.TestContext, name: string, fn: () => Promise<void>) {
  return t.step({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

/** `value` once `seconds` have passed on a worker: `[time.sleep(seconds), value][1]`. */
function after(seconds: number, value: unknown) {
  return py.call("operator.getitem", [py.call("time.sleep", seconds), value], 1);
}

/** A task that fails after `seconds` with ZeroDivisionError. */
function failingAfter(seconds: number) {
  return py.call("operator.truediv", after(seconds, 1), 0);
}

const keys = (futures: readonly Future[]) => futures.map((f) => f.key);

for (const era of ["dedl", "current"] as const) {
  Deno.test(`as completed and wait (${era}) - completion order, errors included`, async (t) => {
    await using cluster = await LocalCluster.start({ era, workers: 1, threadsPerWorker: 4 });
    await using client = await Client.connect(cluster.address);

    await step(
      t,
      "asCompleted yields a fast task before a slow one, whatever the order",
      async () => {
        const slow = client.compute(after(1.5, "slow"));
        const failing = client.compute(failingAfter(0.7));
        const fast = client.compute(after(0.1, "fast"));
        const order: string[] = [];
        for await (const done of asCompleted([slow, failing, fast], WAIT)) {
          if (done.ok) order.push(String(done.value));
          else {
            assert.ok(done.error instanceof RemoteError);
            assert.equal(done.error.type, "ZeroDivisionError");
            assert.equal(done.future, failing);
            order.push("error");
          }
        }
        assert.deepEqual(order, ["fast", "error", "slow"]);
      },
    );

    await step(t, "asCompleted without results, over a cancelled future", async () => {
      const a = client.compute(after(0.2, "a"));
      const b = client.compute(after(8, "b"));
      const seen: Array<[string, boolean]> = [];
      const iterating = (async () => {
        for await (const done of asCompleted([a, b], { withResults: false, ...WAIT })) {
          seen.push([done.future.key, done.ok]);
          if (done.future === a) await b.cancel();
          if (!done.ok) assert.ok(done.error instanceof TaskCancelled);
        }
      })();
      await iterating;
      assert.deepEqual(seen, [[a.key, true], [b.key, false]]);
    });

    await step(t, "asCompleted's timeoutMs bounds the wait for the next one", async () => {
      const slow = client.compute(after(8, "slow"));
      const iterator = asCompleted([slow], { timeoutMs: 300 });
      await assert.rejects(iterator.next(), RequestTimeout);
      await slow.cancel();
    });

    await step(t, "wait: FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED", async () => {
      const slow = client.compute(after(2, 1));
      const fast = client.compute(after(0.1, 2));
      const first = await wait([slow, fast], { returnWhen: "FIRST_COMPLETED", ...WAIT });
      assert.deepEqual(keys(first.done), keys([fast]));
      assert.deepEqual(keys(first.notDone), keys([slow]));

      const slow2 = client.compute(after(3, 3));
      const failing = client.compute(failingAfter(0.3));
      const fine = client.compute(after(0.1, 4));
      const exc = await wait([slow2, failing, fine], { returnWhen: "FIRST_EXCEPTION", ...WAIT });
      assert.deepEqual(keys(exc.done), keys([failing, fine]));
      assert.deepEqual(keys(exc.notDone), keys([slow2]));
      assert.equal(failing.status, "error");

      const all = await wait([slow, slow2, failing], WAIT);
      assert.deepEqual(keys(all.done), keys([slow, slow2, failing]));
      assert.deepEqual(all.notDone, []);
      assert.deepEqual(await client.gather([slow, slow2]), [1, 3]);
    });

    await step(
      t,
      "wait: a timeout is a typed error; an unknown returnWhen is refused",
      async () => {
        const slow = client.compute(after(8, 0));
        await assert.rejects(wait([slow], { timeoutMs: 200 }), RequestTimeout);
        await assert.rejects(
          wait([slow], { returnWhen: "ANY" as "ALL_COMPLETED" }),
          (e) => e instanceof InvalidArgument && /FIRST_COMPLETED/.test(e.message),
        );
        await slow.cancel();
        assert.deepEqual(await wait([]), { done: [], notDone: [] });
      },
    );
  });
}
