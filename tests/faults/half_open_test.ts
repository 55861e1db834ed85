/**
 * Fault: half-open connections. A `timeout` toxic with timeout 0 lets connections open but
 * carries no byte in either direction, as a dead NAT entry or a frozen peer would. Every wait of
 * the client then ends by its own timeout, with the typed error, in bounded time: the heartbeat
 * timeout (a pending future rejects with `ConnectionLost`), the RPC timeout
 * (`RequestTimeout`), the connect timeout (`ConnectTimeout`), the gateway call timeout and the
 * site probe (`GatewayUnavailable`). A cluster started behind a frozen scheduler link fails
 * to start typed and is stopped again; one whose gateway API link freezes while it starts fails
 * typed, and `shutdown()` stops it once the link is back. Once the links carry data again, the
 * clusters are stopped and none is left.
 */
import assert from "node:assert/strict";
import { sleep } from "../../base/mod.ts";
import { ClusterStartTimeout, Gateway, GatewayUnavailable } from "../../lib/gateway/mod.ts";
import { replicaLogin } from "../../lib/gateway/testing/replica_login.ts";
import { MultiCluster } from "../../lib/multicluster/mod.ts";
import { ConnectionLost, ConnectTimeout, py, RequestTimeout } from "../../protocol/mod.ts";
import { FaultySites, ONE_WORKER, SMALL_CLUSTER, timed } from "./faulty_sites.ts";
import type { ToxicProxy } from "./toxiproxy.ts";

const HEARTBEAT_TIMEOUT_MS = 2_000;
const RPC_TIMEOUT_MS = 3_000;
const CONNECT_TIMEOUT_MS = 3_000;
const GATEWAY_TIMEOUT_MS = 3_000;
const START_TIMEOUT_MS = 5_000;
/** What a timer may fire late on this shared machine, and a response may take. */
const SLACK_MS = 1_500;

/** Freezes both directions of `proxy`; returns the toxics' names. */
async function freeze(proxy: ToxicProxy): Promise<string[]> {
  return await Promise.all(
    (["upstream", "downstream"] as const).map((stream) =>
      proxy.addToxic({
        type: "timeout",
        name: `frozen_${stream}`,
        stream,
        attributes: { timeout: 0 },
      })
    ),
  );
}

/** Lets data through again (the frozen connections are closed by Toxiproxy). */
async function thaw(proxy: ToxicProxy, toxics: string[]): Promise<void> {
  for (const name of toxics) await proxy.removeToxic(name);
}

Deno.test("faults - half-open connections: every timeout fires typed, in bounded time", async (t) => {
  await using auth = await replicaLogin(0);
  await using sites = await FaultySites.start(["lumi"]);
  const mc = await MultiCluster.connect({
    auth,
    sites: sites.registry,
    timeoutMs: GATEWAY_TIMEOUT_MS,
    client: {
      heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
      timeoutMs: RPC_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    },
  });
  try {
    await sites.startSmallClusters(mc);
    const { client, cluster } = mc.site("lumi");

    await t.step("control: a task quieter than the heartbeat timeout completes", async () => {
      // DEDL's scheduler (2023.8.0) sends nothing on a quiet stream: only a probe tells it alive.
      const quiet = client.submit(py.fn("time.sleep"), 1.5 * HEARTBEAT_TIMEOUT_MS / 1000);
      assert.equal(await quiet.result({ timeoutMs: 30_000 }), null);
      assert.ok(!client.closed);
    });

    await t.step(
      "scheduler link frozen: RPC, heartbeat, connect timeouts; a start is undone",
      async () => {
        // Submitted before the freeze; it would end after 8 s.
        const pending = client.submit(py.fn("time.sleep"), 8);
        await sleep(200);
        const frozen = await freeze(sites.scheduler("lumi"));
        const [rpc, lost, connect] = await Promise.all([
          timed(() => client.identity()),
          timed(() => pending.result()),
          timed(() => cluster.getClient({ connectTimeoutMs: CONNECT_TIMEOUT_MS })),
        ]);
        // The RPC waits for a pooled connection's reply, or for a new connection: either times out.
        assert.ok(
          rpc.error instanceof RequestTimeout || rpc.error instanceof ConnectTimeout,
          `identity: ${rpc.error ?? "answered"}`,
        );
        assert.ok(rpc.ms < RPC_TIMEOUT_MS + SLACK_MS, `identity failed after ${rpc.ms} ms`);
        // Silence past the heartbeat timeout, then a probe that gets no answer in that time either.
        assert.ok(lost.error instanceof ConnectionLost, `pending: ${lost.error ?? lost.value}`);
        assert.match(lost.error.message, /heartbeat timeout/);
        const heartbeatBound = 2 * HEARTBEAT_TIMEOUT_MS + HEARTBEAT_TIMEOUT_MS / 3 + SLACK_MS;
        assert.ok(lost.ms < heartbeatBound, `pending rejected after ${lost.ms} ms`);
        assert.ok(client.closed);
        // A new connection: TCP opens, the TLS handshake gets no answer.
        assert.ok(connect.error instanceof ConnectTimeout, `connect: ${connect.error ?? "opened"}`);
        assert.ok(connect.ms < CONNECT_TIMEOUT_MS + SLACK_MS, `connect failed after ${connect.ms}`);

        // A cluster started now cannot be reached: the start fails typed and stops it again.
        const other = await MultiCluster.connect({
          auth,
          sites: sites.registry,
          client: { connectTimeoutMs: CONNECT_TIMEOUT_MS },
        });
        const known = sites.clusters.size;
        const start = await timed(() =>
          other.newCluster(SMALL_CLUSTER, { adapt: ONE_WORKER, onProgress: sites.onProgress })
        );
        const [outcome] = start.value ?? [];
        assert.ok(outcome && !outcome.ok, `the start succeeded: ${start.error}`);
        assert.ok(outcome.error instanceof ConnectTimeout, String(outcome.error));
        assert.ok(start.ms < 30_000, `the failed start took ${start.ms} ms`);
        assert.equal(sites.clusters.size, known + 1, "the cluster was named by the gateway");
        assert.equal(other.status()[0].cluster, undefined, "no cluster held");
        assert.deepEqual(await other.shutdown(), []);
        await thaw(sites.scheduler("lumi"), frozen);
      },
    );

    await t.step("gateway API link frozen: call timeout, site probe, shutdown", async () => {
      const frozen = await freeze(sites.api("lumi"));
      const list = await timed(() => mc.gateway("lumi").listClusters());
      assert.ok(list.error instanceof GatewayUnavailable, `list: ${list.error ?? "answered"}`);
      assert.match(list.error.message, new RegExp(`no answer within ${GATEWAY_TIMEOUT_MS} ms`));
      assert.ok(list.ms < GATEWAY_TIMEOUT_MS + SLACK_MS, `list failed after ${list.ms} ms`);

      const probe = await timed(() =>
        MultiCluster.connect({ auth, sites: sites.registry, probeTimeoutMs: 2_000 })
      );
      assert.ok(probe.value, String(probe.error));
      const [status] = probe.value.status();
      assert.equal(status.available, false);
      assert.ok(status.failure instanceof GatewayUnavailable, String(status.failure));
      assert.ok(probe.ms < 2_000 + SLACK_MS, `probe took ${probe.ms} ms`);

      // Stopping the cluster cannot reach the gateway: reported, bounded, and kept for later.
      const stop = await timed(() => mc.shutdown());
      const [outcome] = stop.value ?? [];
      assert.ok(outcome && !outcome.ok, JSON.stringify(outcome));
      assert.ok(outcome.error instanceof GatewayUnavailable, String(outcome.error));
      assert.ok(stop.ms < GATEWAY_TIMEOUT_MS + SLACK_MS, `shutdown failed after ${stop.ms} ms`);
      assert.equal(mc.status()[0].cluster, cluster.name);
      await thaw(sites.api("lumi"), frozen);
    });

    await t.step("gateway API link frozen during a start: typed, stopped once back", async () => {
      const starter = await MultiCluster.connect({
        auth,
        sites: sites.registry,
        timeoutMs: GATEWAY_TIMEOUT_MS,
      });
      // Frozen as soon as the gateway has named the cluster: the start's waits get no answer.
      let frozen: Promise<string[]> | undefined;
      let name = "";
      const start = await timed(() =>
        starter.newCluster(SMALL_CLUSTER, {
          adapt: ONE_WORKER,
          startTimeoutMs: START_TIMEOUT_MS,
          onProgress: (site, event) => {
            sites.onProgress(site, event);
            name ||= event.cluster;
            frozen ??= freeze(sites.api("lumi"));
          },
        })
      );
      const [outcome] = start.value ?? [];
      assert.ok(outcome && !outcome.ok, `the start succeeded: ${start.error}`);
      // The start deadline passed (and stopping it failed too), or a wait ran out first.
      assert.ok(
        outcome.error instanceof ClusterStartTimeout || outcome.error instanceof GatewayUnavailable,
        String(outcome.error),
      );
      // The start's deadline, the gateway client's attempt to stop it (5 s), then the
      // multi-site layer's (one gateway call).
      const bound = START_TIMEOUT_MS + 5_000 + GATEWAY_TIMEOUT_MS + SLACK_MS;
      assert.ok(start.ms < bound, `failed after ${start.ms} ms`);
      await thaw(sites.api("lumi"), await frozen!);
      const direct = new Gateway({ address: sites.direct.lumi.address, auth });
      const left = await direct.getCluster(name);
      assert.ok(left.status === "PENDING" || left.status === "RUNNING", left.status);
      // The failed start's cluster is stopped by shutdown(), now that the gateway answers.
      const stopped = await starter.shutdown();
      assert.deepEqual(stopped.map((o) => o.ok && o.value), ["STOPPED"]);
      assert.equal((await direct.getCluster(name)).status, "STOPPED");
    });
  } finally {
    const stopped = await mc.shutdown();
    for (const o of stopped) assert.ok(o.ok && o.value === "STOPPED", JSON.stringify(o));
  }
  await sites.assertNoOrphans(auth);
});
