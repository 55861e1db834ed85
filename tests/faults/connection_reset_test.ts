/**
 * Fault: connections cut under the client. A link to the scheduler proxy that closes after 4 MiB
 * (`limit_data`) cuts a 32 MiB gather mid-frame: that gather fails typed at once, with bounded
 * memory, and the client stays usable. A TCP reset of every connection (`reset_peer`) makes the
 * client report `ConnectionLost`: pending futures reject at once, later calls fail the same way,
 * nothing hangs, and the cluster is still stopped through the gateway's API.
 */
import assert from "node:assert/strict";
import { replicaLogin } from "../../lib/gateway/testing/replica_login.ts";
import { MultiCluster } from "../../lib/multicluster/mod.ts";
import { ConnectionClosed, ConnectionLost, py } from "../../protocol/mod.ts";
import { FaultySites, ONE_WORKER, peakRss, SMALL_CLUSTER, timed } from "./faulty_sites.ts";

const MIB = 1024 * 1024;
const PAYLOAD = 32 * MIB;

Deno.test("faults - connection reset: mid-frame cut fails typed, a reset is ConnectionLost", async (t) => {
  await using auth = await replicaLogin(0);
  await using sites = await FaultySites.start(["lumi"]);
  const mc = await MultiCluster.connect({
    auth,
    sites: sites.registry,
    // Heartbeats every second, so that even an idle stream crosses the reset soon.
    client: { heartbeatIntervalMs: 1_000 },
  });
  try {
    const [started] = await mc.newCluster(SMALL_CLUSTER, {
      adapt: ONE_WORKER,
      onProgress: sites.onProgress,
    });
    assert.ok(started.ok, !started.ok ? started.error.message : "");
    const { client } = mc.site("lumi");
    const ones = client.compute(py.call(py.fn("numpy.ones"), PAYLOAD / 8));
    await ones.wait();

    await t.step("a connection closed mid-frame fails its gather typed, at once", async () => {
      await sites.scheduler("lumi").addToxic({
        type: "limit_data",
        attributes: { bytes: 4 * MIB },
      });
      const before = Deno.memoryUsage().rss;
      const { value: cut, peak } = await peakRss(() => timed(() => ones.result()));
      assert.ok(cut.error instanceof ConnectionClosed, `got ${cut.value ?? cut.error}`);
      assert.ok(cut.ms < 5_000, `failed after ${cut.ms} ms`);
      assert.ok(peak - before < 2 * PAYLOAD, `RSS grew ${Math.round((peak - before) / MIB)} MiB`);
      // Only that connection was cut: the stream and the client live on.
      assert.ok(!client.closed);
      const site = await timed(() =>
        client.submit(py.fn("os.getenv"), "DEDL_SITE").result({ timeoutMs: 10_000 })
      );
      assert.equal(site.value, "lumi", String(site.error));
    });

    await t.step(
      "a reset of every connection: ConnectionLost, pending futures reject",
      async () => {
        const pending = client.submit(py.fn("time.sleep"), 5);
        const outcome = timed(() => pending.result());
        for (const stream of ["upstream", "downstream"] as const) {
          await sites.scheduler("lumi").addToxic({
            type: "reset_peer",
            name: `reset_${stream}`,
            stream,
            attributes: { timeout: 0 },
          });
        }
        const { ms, error } = await outcome;
        assert.ok(error instanceof ConnectionLost, `got ${error}`);
        // The next heartbeat (1 s) at the latest crosses the reset.
        assert.ok(ms < 5_000, `rejected after ${ms} ms`);
        assert.ok(client.closed);
        await assert.rejects(
          mc.compute(py.call(py.fn("os.getenv"), "DEDL_SITE").withAttrs({ location: "lumi" })),
          ConnectionLost,
        );
      },
    );
  } finally {
    // The gateway's API link is intact: the cluster is stopped there.
    const stopped = await mc.shutdown();
    for (const o of stopped) assert.ok(o.ok && o.value === "STOPPED", JSON.stringify(o));
  }
  await sites.assertNoOrphans(auth);
});
