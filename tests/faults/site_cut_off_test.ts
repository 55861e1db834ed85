/**
 * Fault: one site cut off in the middle of a multi-site computation. Both of central's links
 * (gateway API and scheduler proxy) are disabled while `computeAll` runs a task at each site:
 * LUMI's result arrives as if nothing happened, central's computation fails typed soon after the
 * cut, and stopping the clusters reports central's gateway as unreachable without losing the
 * cluster, which is stopped once the site is back.
 */
import assert from "node:assert/strict";
import { sleep } from "../../base/mod.ts";
import { GatewayUnavailable } from "../../lib/gateway/mod.ts";
import { replicaLogin } from "../../lib/gateway/testing/replica_login.ts";
import { MultiCluster, SiteUnavailable } from "../../lib/multicluster/mod.ts";
import { ConnectionLost, py } from "../../protocol/mod.ts";
import { FaultySites, ONE_WORKER, SMALL_CLUSTER, timed } from "./faulty_sites.ts";

const TASK_SECONDS = 4;

/** Sleeps, then reports the site its worker runs at. */
function slowWhereAmI(location: string) {
  return py.call(
    "builtins.eval",
    `__import__('time').sleep(${TASK_SECONDS}) or __import__('os').getenv('DEDL_SITE')`,
  ).withAttrs({ location });
}

Deno.test("faults - a site cut off during computeAll: the other's result, a typed failure", async () => {
  await using auth = await replicaLogin(0);
  await using sites = await FaultySites.start();
  const mc = await MultiCluster.connect({ auth, sites: sites.registry });
  try {
    const outcomes = await mc.newCluster(SMALL_CLUSTER, {
      adapt: ONE_WORKER,
      onProgress: sites.onProgress,
    });
    for (const o of outcomes) assert.ok(o.ok, `${o.site}: ${!o.ok && o.error.message}`);
    // Workers up at both sites, so that both tasks start at once below.
    await mc.computeAll(
      ["central", "lumi"].map((site) =>
        py.call(py.fn("os.getenv"), "DEDL_SITE").withAttrs({ location: site })
      ),
    );

    const started = performance.now();
    const running = timed(() => mc.computeAll([slowWhereAmI("central"), slowWhereAmI("lumi")]));
    await sleep(1_000);
    const cutAt = performance.now();
    const centralClient = mc.site("central").client;
    for (const proxy of sites.both("central")) await proxy.setEnabled(false);
    // The cut site's client notices the loss (and fails its pending futures) within moments.
    while (!centralClient.closed && performance.now() - cutAt < 10_000) await sleep(20);
    const noticed = performance.now() - cutAt;
    assert.ok(noticed < 2_000, `central's loss noticed after ${noticed} ms`);
    const { value, ms } = await running;
    assert.ok(value, "computeAll itself never throws");
    const [central, lumi] = value;
    assert.ok(lumi.ok, !lumi.ok ? String(lumi.error) : "");
    assert.equal(lumi.value, "lumi");
    assert.equal(central.site, "central");
    assert.ok(!central.ok, "central's computation cannot have succeeded");
    assert.ok(central.error instanceof ConnectionLost, String(central.error));
    // LUMI's task ran its time, not more; central's failure did not hold it up.
    assert.ok(ms < TASK_SECONDS * 1000 + 3_000, `computeAll took ${ms} ms`);
    assert.ok(cutAt - started < TASK_SECONDS * 1000, "the cut came while the tasks ran");

    // Later work at the cut site fails typed at once: its scheduler cannot be reached again.
    const again = await timed(() => mc.compute(slowWhereAmI("central")));
    assert.ok(again.error instanceof SiteUnavailable, String(again.error));
    assert.match(again.error.message, /was lost and cannot be made again/);
    assert.ok(again.ms < 1_000, `failed after ${again.ms} ms`);

    // Stopping: LUMI's cluster stops; central's gateway is unreachable, reported in bounded time.
    const stop = await timed(() => mc.shutdown());
    const byOutcome = Object.fromEntries((stop.value ?? []).map((o) => [o.site, o]));
    assert.ok(byOutcome.lumi?.ok && byOutcome.lumi.value === "STOPPED", JSON.stringify(byOutcome));
    const centralStop = byOutcome.central;
    assert.ok(centralStop && !centralStop.ok, JSON.stringify(centralStop));
    assert.ok(centralStop.error instanceof GatewayUnavailable, String(centralStop.error));
    assert.match(centralStop.error.message, /connection refused/);
    assert.ok(stop.ms < 10_000, `shutdown took ${stop.ms} ms`);
    assert.ok(mc.status().find((s) => s.site === "central")?.cluster, "central's cluster kept");
  } finally {
    // The site is back (also after a failed assertion, so that it shows): its cluster stops too.
    for (const proxy of sites.both("central")) await proxy.setEnabled(true);
    const stopped = await mc.shutdown();
    for (const o of stopped) assert.ok(o.ok && o.value === "STOPPED", JSON.stringify(o));
  }
  await sites.assertNoOrphans(auth);
});
