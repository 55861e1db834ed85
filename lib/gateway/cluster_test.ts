/**
 * A cluster's life on the replica's real gateway: start with options, scale and adapt, workers
 * counted by the scheduler itself, a second gateway client computing through the SNI proxy, the
 * dashboard, and shutdown. One small cluster for the whole file (2-core machine).
 */
import assert from "node:assert/strict";
import { py } from "../../protocol/mod.ts";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { ClusterNotRunning, InvalidWorkerCount, WorkersTimeout } from "./errors.ts";
import { Gateway } from "./gateway.ts";
import type { ClusterProgress } from "./progress.ts";
import { replicaLogin } from "./testing/replica_login.ts";

const ep = await readEndpoints();
const site = ep.sites.central;

Deno.test("gateway cluster - start, scale, adapt, connect by name, compute, dashboard, stop", async (t) => {
  await using auth = await replicaLogin();
  const requests: string[] = [];
  const gateway = new Gateway({
    address: site.address,
    proxyAddress: site.proxy_address,
    auth,
    fetch: (input, init) => {
      const url = new URL(String(input));
      requests.push(`${init?.method ?? "GET"} ${url.pathname}${url.search}`);
      return fetch(input, init);
    },
  });
  await gateway.clusterOptions();
  requests.length = 0;
  const events: ClusterProgress[] = [];
  const cluster = await gateway.newCluster(
    { worker_cores: 3, worker_memory: 6 },
    { onProgress: (e) => events.push(e) },
  );
  try {
    await t.step("RUNNING with the options asked for, progress reported", () => {
      assert.equal(cluster.status, "RUNNING");
      assert.equal(cluster.options.worker_cores, 3);
      assert.equal(cluster.options.worker_memory, 6);
      assert.equal(cluster.schedulerAddress, `${gateway.proxyAddress}/${cluster.name}`);
      assert.match(cluster.schedulerAddress, /^gateway:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{32}$/);
      assert.deepEqual(
        events.map((e) => e.kind === "status" && e.status),
        ["PENDING", "RUNNING"],
      );
      assert.ok(!JSON.stringify(cluster.report).includes("PRIVATE KEY"), "key not printable");
      // The start is long-polled with ?wait=1 (the gateway ignores ?wait=true): after the POST,
      // a start of ~2 s takes one or two requests, where polling would take many.
      const polls = requests.filter((r) => r.startsWith(`GET /api/v1/clusters/${cluster.name}`));
      assert.ok(polls.every((r) => r.endsWith("?wait=1")), polls.join());
      assert.ok(polls.length <= 2, polls.join());
    });

    await t.step(
      "scale(2): the scheduler reports 2 workers with the cluster's options",
      async () => {
        assert.deepEqual(await cluster.scale(2), { ok: true, message: null });
        const workerEvents: ClusterProgress[] = [];
        const count = await cluster.waitForWorkers(2, {
          timeoutMs: 120_000,
          onProgress: (e) => workerEvents.push(e),
        });
        assert.equal(count, 2);
        const last = workerEvents.at(-1);
        assert.ok(last?.kind === "workers");
        assert.equal(last.workers, 2);
        assert.equal(last.wanted, 2);
        await using client = await cluster.getClient();
        const workers = Object.values((await client.identity()).workers);
        assert.equal(workers.length, 2);
        for (const w of workers) {
          assert.equal(w.nthreads, 3);
          assert.equal(w.memory_limit, 6 * 2 ** 30);
        }
      },
    );

    await t.step(
      "waitForWorkers beyond the count is WorkersTimeout naming both numbers",
      async () => {
        await assert.rejects(cluster.waitForWorkers(3, { timeoutMs: 1_500 }), (e) => {
          assert.ok(e instanceof WorkersTimeout, String(e));
          assert.equal(e.wanted, 3);
          assert.equal(e.present, 2);
          return true;
        });
        await assert.rejects(cluster.waitForWorkers(-1), InvalidWorkerCount);
        await assert.rejects(cluster.scale(1.5), InvalidWorkerCount);
      },
    );

    await t.step(
      "adapt is accepted; bounds above the gateway's limit are capped with its message",
      async () => {
        assert.deepEqual(await cluster.adapt({ minimum: 2, maximum: 2 }), {
          ok: true,
          message: null,
        });
        const capped = await cluster.adapt({ minimum: 2, maximum: 50 });
        assert.equal(capped.ok, false);
        assert.match(capped.message ?? "", /exceed resource limit of 10 workers/);
        // Back to a fixed count so adaptive scaling does not start workers on the small machine.
        await cluster.scale(2);
      },
    );

    await t.step("a second Gateway connects by name and computes through the proxy", async () => {
      await using otherAuth = await replicaLogin();
      const other = new Gateway({
        address: site.address,
        proxyAddress: site.proxy_address,
        auth: otherAuth,
      });
      const same = await other.connect(cluster.name);
      assert.equal(same.status, "RUNNING");
      assert.equal(same.shutdownOnDispose, false);
      await using client = await same.getClient();
      const where = await client.submit(py.fn("os.getenv"), "DEDL_SITE").result();
      assert.equal(where, "central");
      const sum = await client.submit(py.fn("operator.add"), 40, 2).result();
      assert.equal(sum, 42);
    });

    await t.step("the dashboard link answers 200 through the gateway", async () => {
      const link = cluster.dashboardLink;
      assert.equal(link, `${site.address}/clusters/${cluster.name}/status`);
      const res = await fetch(link!, { signal: AbortSignal.timeout(30_000) });
      await res.body?.cancel();
      assert.equal(res.status, 200);
    });

    await t.step("shutdown: STOPPED, gone from the active list, no more clients", async () => {
      assert.equal(await cluster.shutdown(), "STOPPED");
      assert.equal(cluster.status, "STOPPED");
      assert.equal(cluster.dashboardLink, null);
      const active = await gateway.listClusters();
      assert.ok(!active.some((c) => c.name === cluster.name));
      const stopped = await gateway.listClusters({ status: "STOPPED" });
      assert.equal(stopped.find((c) => c.name === cluster.name)?.status, "STOPPED");
      await assert.rejects(cluster.getClient(), ClusterNotRunning);
      await assert.rejects(cluster.scale(1), ClusterNotRunning);
    });
  } finally {
    await cluster.shutdown();
  }
});

Deno.test("gateway cluster - start with workers reports them joining; await using stops the cluster", async () => {
  await using auth = await replicaLogin();
  const gateway = new Gateway({
    address: ep.sites.lumi.address,
    proxyAddress: ep.sites.lumi.proxy_address,
    auth,
  });
  let name = "";
  const events: ClusterProgress[] = [];
  {
    await using cluster = await gateway.newCluster({ worker_cores: 1, worker_memory: 1 }, {
      workers: 1,
      onProgress: (e) => events.push(e),
    });
    name = cluster.name;
    assert.deepEqual(
      events.map((e) => e.kind === "status" ? e.status : `${e.workers}/${e.wanted}`),
      ["PENDING", "RUNNING", "0/1", "1/1"],
    );
    assert.ok(events.every((e, i) => i === 0 || e.elapsedMs >= events[i - 1].elapsedMs));
    assert.equal(cluster.shutdownOnDispose, true);
    assert.match(cluster.schedulerAddress, new RegExp(`/${name}$`));
  }
  assert.equal((await gateway.getCluster(name)).status, "STOPPED");
});
