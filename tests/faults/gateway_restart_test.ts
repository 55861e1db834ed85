/**
 * Fault: the gateway is restarted (SIGTERM, then started again on the same port) while a cluster
 * runs and a computation is pending on it, on a gateway of our own with the replica's site
 * configuration. Two ways a gateway can keep its state, two outcomes, both checked as they
 * really happen:
 *
 * - the replica's configuration (state in memory, `stop_clusters_on_shutdown` on, as
 *   dask-gateway-server's default): the gateway stops the cluster on its way out, the client
 *   reports `ConnectionLost`, the restarted gateway knows no such cluster (the next computation
 *   is `SiteUnavailable` naming it, and the multi-site layer lets go of it);
 * - state kept (a database file, `stop_clusters_on_shutdown` off, as a Kubernetes gateway keeps
 *   its clusters across a restart): the scheduler survives, the client still reports
 *   `ConnectionLost` (its connection went through the old gateway's proxy), the restarted gateway
 *   reports the cluster RUNNING and routes to it again, a new client computes on it, so does the
 *   multi-site layer's next computation (connected again, `ClientReconnected`), and the cluster
 *   is stopped through the new gateway.
 *
 * Either way no scheduler or worker process of the cluster survives the test.
 */
import assert from "node:assert/strict";
import { sleep } from "../../base/mod.ts";
import { ClusterNotFound } from "../../lib/gateway/mod.ts";
import { startGatewayServer } from "../../lib/gateway/testing/gateway_server.ts";
import { replicaLogin } from "../../lib/gateway/testing/replica_login.ts";
import {
  ClientReconnected,
  MultiCluster,
  type MultiClusterWarning,
  SiteUnavailable,
} from "../../lib/multicluster/mod.ts";
import { ConnectionLost, GatewayClusterNotFound, py } from "../../protocol/mod.ts";
import { isAlive, pidsWithEnv } from "../replica/process.ts";
import { ONE_WORKER, SMALL_CLUSTER, timed } from "./faulty_sites.ts";

const SITE = "restarted";

/** The scheduler and worker processes of a cluster (dask-gateway tags them with its name). */
function clusterProcesses(name: string): number[] {
  return pidsWithEnv("DASK_GATEWAY_CLUSTER_NAME", name);
}

/** Waits until none of `pids` is alive, up to `timeoutMs`; returns those still alive. */
async function waitGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await sleep(100);
  }
}

/** Starts a one-worker cluster at the gateway and checks it computes; returns its name. */
async function startCluster(mc: MultiCluster): Promise<string> {
  const [started] = await mc.newCluster(SMALL_CLUSTER, { adapt: ONE_WORKER });
  assert.ok(started.ok, !started.ok ? started.error.message : "");
  assert.equal(
    await mc.compute(py.call(py.fn("os.getenv"), "DEDL_SITE").withAttrs({ location: SITE })),
    SITE,
  );
  return started.value.name;
}

/** Restarts the gateway under a pending computation; returns how that computation ended. */
async function restartUnderWork(
  mc: MultiCluster,
  restart: () => Promise<void>,
): Promise<{ ms: number; error?: unknown; restartMs: number }> {
  const pending = timed(() =>
    mc.compute(py.call(py.fn("time.sleep"), 5).withAttrs({ location: SITE }))
  );
  await sleep(300);
  const restarted = timed(restart);
  const [outcome, { ms: restartMs, error }] = await Promise.all([pending, restarted]);
  assert.equal(error, undefined, `restart failed: ${error}`);
  return { ...outcome, restartMs };
}

/** The one site served by `server`, as `MultiCluster.connect` takes it. */
function siteOf(server: { address: string; proxyAddress: string }) {
  return { [SITE]: { name: SITE, address: server.address, proxy_address: server.proxyAddress } };
}

/** The computation pending during the restart failed ConnectionLost, in bounded time. */
function assertLostInTime(
  { ms, error, restartMs }: { ms: number; error?: unknown; restartMs: number },
): void {
  assert.ok(error instanceof ConnectionLost, `pending computation: ${error ?? "succeeded"}`);
  assert.ok(ms < 15_000, `the loss was reported after ${ms} ms`);
  assert.ok(restartMs < 60_000, `restart took ${restartMs} ms`);
}

Deno.test("faults - gateway restarted, replica's configuration: cluster stopped, ConnectionLost", async () => {
  await using auth = await replicaLogin(0);
  await using server = await startGatewayServer({ site: SITE });
  const mc = await MultiCluster.connect({ auth, sites: siteOf(server) });
  let name = "";
  let processes: number[] = [];
  try {
    name = await startCluster(mc);
    processes = clusterProcesses(name);
    assert.ok(processes.length >= 2, `scheduler and worker processes: ${processes}`);

    assertLostInTime(await restartUnderWork(mc, () => server.restart()));

    // What really happened: the gateway stopped its cluster on the way out, and forgot it.
    assert.deepEqual(await waitGone(processes, 5_000), [], "the cluster's processes survived");
    await assert.rejects(mc.gateway(SITE).getCluster(name), ClusterNotFound);
    // The next computation cannot connect again: the site's cluster is gone.
    await assert.rejects(
      mc.compute(py.call(py.fn("os.getenv"), "DEDL_SITE").withAttrs({ location: SITE })),
      (e) => {
        assert.ok(e instanceof SiteUnavailable, String(e));
        assert.match(e.message, new RegExp(`cluster ${name} was lost and cannot be made again`));
        assert.ok(e.cause instanceof GatewayClusterNotFound, String(e.cause));
        assert.match(e.message, /the gateway knows no such cluster, so it is let go/);
        return true;
      },
    );
    assert.equal(mc.status()[0].cluster, undefined, "the forgotten cluster is let go");
  } finally {
    const stopped = await mc.shutdown();
    for (const o of stopped) assert.ok(o.ok && o.value === "STOPPED", JSON.stringify(o));
  }
  assert.deepEqual(await waitGone(processes, 1_000), []);
  assert.deepEqual(clusterProcesses(name), []);
});

Deno.test("faults - gateway restarted, state kept: the cluster survives, a new client computes", async () => {
  await using auth = await replicaLogin(0);
  // A Fernet key (32 random bytes, URL-safe base64) for the gateway's database.
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
    .replaceAll("+", "-").replaceAll("/", "_");
  await using server = await startGatewayServer({
    site: SITE,
    extraConfig: [
      "import os",
      'c.DBBackendBase.db_url = "sqlite:///" + os.path.join(os.environ["DEDL_SITE_DATA"], "gateway.sqlite")',
      `c.DBBackendBase.db_encrypt_keys = ["${key}"]`,
      "c.DBBackendBase.stop_clusters_on_shutdown = False",
      "",
    ].join("\n"),
  });
  const warnings: MultiClusterWarning[] = [];
  const mc = await MultiCluster.connect({
    auth,
    sites: siteOf(server),
    onWarning: (_, w) => warnings.push(w),
  });
  let name = "";
  let processes: number[] = [];
  try {
    name = await startCluster(mc);
    processes = clusterProcesses(name);
    assert.ok(processes.length >= 2, `scheduler and worker processes: ${processes}`);

    // The scheduler lives on, but the client's connection crossed the old gateway's proxy.
    assertLostInTime(await restartUnderWork(mc, () => server.restart()));
    assert.deepEqual(processes.filter((p) => !isAlive(p)), [], "a cluster process ended");

    // The new gateway took the cluster over: RUNNING, and reachable through its proxy again.
    const report = await mc.gateway(SITE).getCluster(name);
    assert.equal(report.status, "RUNNING");
    const cluster = await mc.gateway(SITE).connect(name, { startTimeoutMs: 30_000 });
    await using client = await cluster.getClient();
    assert.equal(await client.submit(py.fn("os.getenv"), "DEDL_SITE").result(), SITE);
    // The multi-site layer connects again for its next computation.
    assert.equal(
      await mc.compute(py.call(py.fn("os.getenv"), "DEDL_SITE").withAttrs({ location: SITE })),
      SITE,
    );
    const reconnected = warnings.filter((w) => w instanceof ClientReconnected);
    assert.deepEqual(reconnected.map((w) => w.cluster), [name]);
  } finally {
    const stopped = await mc.shutdown();
    for (const o of stopped) assert.ok(o.ok && o.value === "STOPPED", JSON.stringify(o));
  }
  // Stopped by the new gateway, not by the test's clean-up.
  assert.deepEqual(await waitGone(processes, 15_000), [], "the cluster's processes survived");
  assert.deepEqual(clusterProcesses(name), []);
});
