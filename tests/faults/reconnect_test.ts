/**
 * Fault: the connection to a site's scheduler is lost while its cluster keeps running (the link
 * cut and restored, as a network blip or a laptop that slept would). Work under way fails with
 * `ConnectionLost`; the next `MultiCluster` call at the site connects to the same cluster again
 * (one new connection for the calls that find it lost at once, reported as
 * `ClientReconnected`). A cluster stopped meanwhile cannot be reached again: the call fails
 * with `SiteUnavailable` naming it, at once, and the cluster is let go, so that `newCluster()`
 * starts another.
 */
import assert from "node:assert/strict";
import { Gateway } from "../../lib/gateway/mod.ts";
import { replicaLogin } from "../../lib/gateway/testing/replica_login.ts";
import {
  ClientReconnected,
  MultiCluster,
  type MultiClusterWarning,
  SiteUnavailable,
} from "../../lib/multicluster/mod.ts";
import { ConnectionLost, GatewayClusterNotFound, py } from "../../protocol/mod.ts";
import { eventually } from "../../protocol/testing/scheduler_keys.ts";
import { FaultySites, timed } from "./faulty_sites.ts";

Deno.test("faults - a lost scheduler connection: the next call connects again", async (t) => {
  await using auth = await replicaLogin(0);
  await using sites = await FaultySites.start(["lumi"]);
  const warnings: MultiClusterWarning[] = [];
  const mc = await MultiCluster.connect({
    auth,
    sites: sites.registry,
    only: ["lumi"],
    onWarning: (_, warning) => warnings.push(warning),
  });
  const reconnects = () => warnings.filter((w) => w instanceof ClientReconnected);
  const whereAmI = py.call(py.fn("os.getenv"), "DEDL_SITE").withAttrs({ location: "lumi" });

  /** Closes every connection through the site's scheduler link, then lets new ones through. */
  const cutAndRestore = async () => {
    const held = mc.site("lumi").client;
    await sites.scheduler("lumi").setEnabled(false);
    await sites.scheduler("lumi").setEnabled(true);
    await eventually("the client knows its connection is lost", () => Promise.resolve(held.closed));
  };

  try {
    await sites.startSmallClusters(mc);
    const cluster = mc.site("lumi").cluster.name;

    await t.step("work under way fails ConnectionLost; the next call connects again", async () => {
      const lost = mc.site("lumi").client;
      const pending = timed(() => mc.compute(py.call(py.fn("time.sleep"), 5), { site: "lumi" }));
      await sites.scheduler("lumi").setEnabled(false);
      await sites.scheduler("lumi").setEnabled(true);
      const { ms, error } = await pending;
      assert.ok(error instanceof ConnectionLost, `got ${error}`);
      assert.ok(ms < 5_000, `rejected after ${ms} ms`);
      assert.ok(lost.closed);
      assert.equal(reconnects().length, 0, "nothing was made again yet");

      assert.equal(await mc.compute(whereAmI), "lumi");
      const [warning] = reconnects();
      assert.ok(warning, "the new connection is reported");
      assert.deepEqual([warning.site, warning.cluster], ["lumi", cluster]);
      assert.match(warning.message, /must be computed again/);
      const { client, cluster: held } = mc.site("lumi");
      assert.notEqual(client, lost);
      assert.ok(!client.closed);
      assert.equal(held.name, cluster, "the same cluster");
      const [listed] = await mc.clusters();
      assert.deepEqual(listed.ok && listed.value.map((c) => c.name), [cluster], "no other");
    });

    await t.step("calls that find it lost at once share one new connection", async () => {
      await cutAndRestore();
      const values = await Promise.all(Array.from({ length: 5 }, () => mc.compute(whereAmI)));
      assert.deepEqual(values, Array(5).fill("lumi"));
      assert.equal(reconnects().length, 2, "one more");
      // withSite hands over the live client too.
      await cutAndRestore();
      const sum = await mc.withSite(
        "lumi",
        ({ client }) => client.submit("operator.add", 1, 2).result(),
      );
      assert.equal(sum, 3);
      assert.equal(reconnects().length, 3);
    });

    await t.step(
      "a cluster stopped meanwhile: SiteUnavailable, let go, another starts",
      async () => {
        const direct = new Gateway({
          address: sites.direct.lumi.address,
          proxyAddress: sites.direct.lumi.proxy_address,
          auth,
        });
        const held = mc.site("lumi").client;
        assert.equal(await direct.stopCluster(cluster), "STOPPED");
        await eventually(
          "the scheduler's exit closes the connection",
          () => Promise.resolve(held.closed),
        );
        const { ms, error } = await timed(() => mc.compute(whereAmI));
        assert.ok(error instanceof SiteUnavailable, `got ${error}`);
        assert.match(
          error.message,
          new RegExp(`cluster ${cluster} was lost and cannot be made again`),
        );
        assert.ok(error.cause instanceof GatewayClusterNotFound, String(error.cause));
        assert.ok(ms < 5_000, `failed after ${ms} ms`);
        assert.equal(reconnects().length, 3, "nothing was made again");
        // The gateway reports it STOPPED: the object lets go of it, and starts another on demand.
        assert.match(
          error.message,
          /reports it STOPPED, so it is let go: newCluster\(\) starts another/,
        );
        const [status] = mc.status();
        assert.equal(status.cluster, undefined, "no cluster held");
        assert.match(
          status.error ?? "",
          new RegExp(`cluster ${cluster} ended \\(the gateway reports`),
        );
        await assert.rejects(mc.compute(whereAmI), /call newCluster\(\) to start another/);
        await sites.startSmallClusters(mc);
        assert.equal(mc.status()[0].error, undefined);
        assert.notEqual(mc.site("lumi").cluster.name, cluster);
        assert.equal(await mc.compute(whereAmI), "lumi");
      },
    );
  } finally {
    await mc.shutdown();
  }
  await sites.assertNoOrphans(auth);
});
