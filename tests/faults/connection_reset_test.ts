/**
 * Fault: connections cut under the client. Links to the scheduler proxy that close after a few
 * MiB (`limit_data`) cut a 32 MiB gather and a 32 MiB scatter mid-frame: each fails typed at
 * once (`ConnectionClosed`), with bounded memory, and the client stays usable. Cutting the
 * client's stream mid-frame (a large graph), or a TCP reset of every connection (`reset_peer`),
 * makes the client report `ConnectionLost`: pending futures reject at once, later calls on it fail
 * the same way (the multi-site layer's next call connects again), nothing hangs, and the cluster
 * is still stopped through the gateway's API. A
 * connection reset during the TLS handshake to a running cluster is reported as a failed connect
 * (`ConnectFailed`), not as the cluster missing (`GatewayClusterNotFound`, what the proxy's own
 * close means and what a stopped cluster still gets).
 */
import assert from "node:assert/strict";
import { sleep } from "../../base/mod.ts";
import { replicaLogin } from "../../lib/gateway/testing/replica_login.ts";
import { MultiCluster } from "../../lib/multicluster/mod.ts";
import { Gateway } from "../../lib/gateway/mod.ts";
import {
  ConnectFailed,
  ConnectionClosed,
  ConnectionLost,
  GatewayClusterNotFound,
  py,
} from "../../protocol/mod.ts";
import { FaultySites, peakRss, timed } from "./faulty_sites.ts";

const MIB = 1024 * 1024;
const PAYLOAD = 32 * MIB;

Deno.test("faults - connection reset: mid-frame cut fails typed, a reset is ConnectionLost", async (t) => {
  await using auth = await replicaLogin(0);
  await using sites = await FaultySites.start(["lumi"]);
  const mc = await MultiCluster.connect({ auth, sites: sites.registry });
  try {
    await sites.startSmallClusters(mc);
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

    await t.step("a scatter cut mid-frame fails typed; the client stays usable", async () => {
      // Every connection now closes after 1 MiB sent to the scheduler.
      await sites.scheduler("lumi").addToxic({
        type: "limit_data",
        stream: "upstream",
        attributes: { bytes: MIB },
      });
      const cut = await timed(() => client.scatter([new Float64Array(PAYLOAD / 8)]));
      assert.ok(cut.error instanceof ConnectionClosed, `got ${cut.value ?? cut.error}`);
      assert.ok(cut.ms < 5_000, `failed after ${cut.ms} ms`);
      assert.ok(!client.closed);
      const site = await timed(() =>
        client.submit(py.fn("os.getenv"), "DEDL_SITE").result({ timeoutMs: 10_000 })
      );
      assert.equal(site.value, "lumi", String(site.error));
    });

    await t.step(
      "a graph cut mid-frame on the stream: ConnectionLost, pending futures reject",
      async () => {
        const pending = timed(() => client.submit(py.fn("time.sleep"), 3).result());
        // A 4 MiB argument travels inside the graph, on the client's stream.
        const big = timed(() => client.submit(py.fn("builtins.len"), "x".repeat(4 * MIB)).result());
        for (const { ms, error } of await Promise.all([pending, big])) {
          assert.ok(error instanceof ConnectionLost, `got ${error}`);
          assert.ok(ms < 5_000, `rejected after ${ms} ms`);
        }
        assert.ok(client.closed);
        // The lost client stays lost; the multi-site layer connects again for its next call.
        assert.throws(() => client.submit(py.fn("os.getenv"), "DEDL_SITE"), ConnectionLost);
        assert.equal(
          await mc.compute(
            py.call(py.fn("os.getenv"), "DEDL_SITE").withAttrs({ location: "lumi" }),
          ),
          "lumi",
        );
      },
    );

    await t.step(
      "a reset of every connection: ConnectionLost, pending futures reject",
      async () => {
        // A new client (small messages pass the limits above); heartbeats every second, so that
        // even its quiet stream crosses the reset soon.
        await using fresh = await mc.site("lumi").cluster.getClient({ heartbeatIntervalMs: 1_000 });
        const pending = timed(() => fresh.submit(py.fn("time.sleep"), 3).result());
        await sleep(200);
        for (const stream of ["upstream", "downstream"] as const) {
          await sites.scheduler("lumi").addToxic({
            type: "reset_peer",
            name: `reset_${stream}`,
            stream,
            attributes: { timeout: 0 },
          });
        }
        const { ms, error } = await pending;
        assert.ok(error instanceof ConnectionLost, `got ${error}`);
        assert.ok(ms < 5_000, `rejected after ${ms} ms`);
        assert.ok(fresh.closed);
        // A lost client refuses new work at once.
        assert.throws(() => fresh.submit(py.fn("os.getenv"), "DEDL_SITE"), ConnectionLost);
      },
    );

    await t.step(
      "a handshake cut to a running cluster is not taken for a missing one",
      async () => {
        // Every new connection is reset during its TLS handshake now.
        const { ms, error } = await timed(() => mc.site("lumi").cluster.getClient());
        assert.ok(error instanceof ConnectFailed, `got ${error}`);
        assert.match(error.message, /gateway reports the cluster RUNNING/);
        assert.ok(error.cause instanceof GatewayClusterNotFound);
        assert.ok(ms < 5_000, `failed after ${ms} ms`);
        // Whereas a cluster that is gone is reported as such (asked directly, not through the
        // toxic link).
        const direct = new Gateway({
          address: sites.direct.lumi.address,
          proxyAddress: sites.direct.lumi.proxy_address,
          auth,
        });
        const stale = await direct.connect(mc.site("lumi").cluster.name);
        assert.equal(await direct.stopCluster(stale.name), "STOPPED");
        await assert.rejects(stale.getClient(), GatewayClusterNotFound);
      },
    );
  } finally {
    // The gateway's API link is intact: the cluster is stopped there.
    const stopped = await mc.shutdown();
    for (const o of stopped) assert.ok(o.ok && o.value === "STOPPED", JSON.stringify(o));
  }
  await sites.assertNoOrphans(auth);
});
