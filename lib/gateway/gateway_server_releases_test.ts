/**
 * The gateway client against dask-gateway-server releases newer than DEDL's 2023.1.1 (which the
 * replica runs and every other test meets): 2025.4.0, which some DEDL sites may run, and the
 * newest. Each gateway is one of our own, with the replica's site configuration and Keycloak;
 * its clusters run DEDL's stack (distributed 2023.8.0), as an image built apart from the
 * gateway would. The whole life of a cluster is walked: version, options, a refused option, a
 * start with options, adaptive scaling, a computation through the gateway's TLS proxy, a second
 * session connecting by name, the stop.
 */
import assert from "node:assert/strict";
import { py } from "../../protocol/mod.ts";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { gatewayServerEnv, pinnedVersion } from "../../tests/replica/python_env.ts";
import { InvalidOptions } from "./errors.ts";
import { Gateway } from "./gateway.ts";
import { startGatewayServer } from "./testing/gateway_server.ts";
import { replicaLogin } from "./testing/replica_login.ts";

const ep = await readEndpoints();
const newestImage = Object.keys(ep.images).find((image) => image !== ep.default_image)!;
const WAIT = { timeoutMs: 120_000 };

/** Each release with the Python that runs it. */
const RELEASES: { release: string; python: () => Promise<string> }[] = [
  { release: "2025.4.0", python: () => gatewayServerEnv("2025.4.0") },
  {
    release: await pinnedVersion("current", "dask-gateway-server"),
    python: () => Promise.resolve(ep.images[newestImage].python),
  },
];

for (const { release, python } of RELEASES) {
  Deno.test(`gateway releases - dask-gateway-server ${release}: a cluster's whole life`, async (t) => {
    await using auth = await replicaLogin();
    await using server = await startGatewayServer({ python: await python(), site: "release" });
    const gateway = new Gateway({
      address: server.address,
      proxyAddress: server.proxyAddress,
      auth,
    });

    await t.step("version and options", async () => {
      assert.equal(await gateway.version(), release);
      const spec = await gateway.clusterOptions();
      const field = (name: string) => spec.fields.find((f) => f.field === name);
      assert.deepEqual(field("worker_cores")?.spec, { type: "int", min: 1, max: 10 });
      assert.deepEqual(field("worker_memory")?.spec, { type: "float", min: 1, max: 32 });
      assert.equal(field("image")?.default, ep.default_image);
    });

    await t.step("an option out of bounds is the gateway's own InvalidOptions", async () => {
      await assert.rejects(
        gateway.newCluster({ worker_cores: 11 }, { validate: false }),
        (e) => {
          assert.ok(e instanceof InvalidOptions, String(e));
          assert.match(e.serverMessage ?? "", /worker_cores must be <= 10/);
          assert.equal(e.field, "worker_cores");
          return true;
        },
      );
      assert.deepEqual(await gateway.listClusters(), [], "no cluster was started");
    });

    await t.step("start, adapt, compute, connect by name, stop", async () => {
      await using cluster = await gateway.newCluster({ worker_cores: 1, worker_memory: 1 });
      const [listed] = await gateway.listClusters();
      assert.equal(listed?.name, cluster.name);
      assert.equal(listed.status, "RUNNING");
      assert.deepEqual(
        [listed.options.worker_cores, listed.options.worker_memory, listed.options.image],
        [1, 1, ep.default_image],
      );

      await cluster.adapt({ minimum: 1, maximum: 2 });
      await cluster.waitForWorkers(1, WAIT);
      {
        await using client = await cluster.getClient();
        assert.equal(client.schedulerVersions.distributed, "2023.8.0");
        const total = client.compute(py.call("builtins.sum", py.call("builtins.range", 1000)));
        assert.equal(await total.result(), 499_500);
      }

      // Another session of the same user finds the cluster by name and computes on it.
      const other = new Gateway({
        address: server.address,
        proxyAddress: server.proxyAddress,
        auth,
      });
      const again = await other.connect(cluster.name);
      {
        await using client = await again.getClient();
        assert.equal(await client.compute(py.call("operator.mul", 6, 7)).result(), 42);
      }

      assert.equal(await cluster.shutdown(), "STOPPED");
      assert.equal((await gateway.getCluster(cluster.name)).status, "STOPPED");
      assert.deepEqual(await gateway.listClusters(), [], "no active cluster left");
    });
  });
}
