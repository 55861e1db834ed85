/**
 * Fault: a slow network. 100 ms of latency each way on every link to both replica sites (gateway
 * API and scheduler proxy): connecting, starting clusters, computing and gathering all still work,
 * within bounds that allow for the added round trips, and nothing is left running.
 */
import assert from "node:assert/strict";
import { replicaLogin } from "../../lib/gateway/testing/replica_login.ts";
import { MultiCluster } from "../../lib/multicluster/mod.ts";
import { py } from "../../protocol/mod.ts";
import { FaultySites, ONE_WORKER, SMALL_CLUSTER } from "./faulty_sites.ts";

const LATENCY_MS = 100;

Deno.test("faults - 100 ms latency each way: start, compute, gather, shutdown still work", async () => {
  await using auth = await replicaLogin(0);
  await using sites = await FaultySites.start();
  for (const site of Object.keys(sites.direct)) {
    for (const proxy of sites.both(site)) {
      for (const stream of ["upstream", "downstream"] as const) {
        await proxy.addToxic({ type: "latency", stream, attributes: { latency: LATENCY_MS } });
      }
    }
  }

  const started = performance.now();
  const mc = await MultiCluster.connect({ auth, sites: sites.registry });
  try {
    const probed = performance.now() - started;
    assert.deepEqual(mc.availableSites.sort(), ["central", "lumi"]);
    // One HTTP round trip is at least 200 ms now: the probe did cross the toxic link.
    assert.ok(probed >= 2 * LATENCY_MS, `probe took ${probed} ms`);

    const t0 = performance.now();
    const outcomes = await mc.newCluster(SMALL_CLUSTER, {
      adapt: ONE_WORKER,
      onProgress: sites.onProgress,
    });
    const startMs = performance.now() - t0;
    for (const o of outcomes) assert.ok(o.ok, `${o.site}: ${!o.ok && o.error.message}`);
    assert.ok(startMs < 30_000, `cluster start took ${startMs} ms`);

    const t1 = performance.now();
    const [central, lumi, arange] = await mc.computeAll([
      py.call(py.fn("os.getenv"), "DEDL_SITE").withAttrs({ location: "central" }),
      py.call(py.fn("os.getenv"), "DEDL_SITE").withAttrs({ location: "lumi" }),
      // 8 MB of int64 through the slow link.
      py.call(py.fn("numpy.arange"), 1_000_000).withAttrs({ location: "lumi" }),
    ]);
    const computeMs = performance.now() - t1;
    assert.deepEqual([central, lumi].map((o) => o.ok && o.value), ["central", "lumi"]);
    assert.ok(arange.ok, !arange.ok ? arange.error.message : "");
    const values = (arange.value as { data: ArrayLike<bigint | number> }).data;
    assert.equal(values.length, 1_000_000);
    assert.equal(Number(values[999_999]), 999_999);
    // The first task waits for the worker to join; then a few round trips each.
    assert.ok(computeMs < 20_000, `computeAll took ${computeMs} ms`);
  } finally {
    const t2 = performance.now();
    const stopped = await mc.shutdown();
    const stopMs = performance.now() - t2;
    for (const o of stopped) assert.ok(o.ok && o.value === "STOPPED", JSON.stringify(o));
    assert.ok(stopMs < 15_000, `shutdown took ${stopMs} ms`);
  }
  await sites.assertNoOrphans(auth);
});
