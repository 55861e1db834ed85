/**
 * The `image` cluster option on the replica's DEDL-like gateway (dask-gateway-server 2023.1.1):
 * a default cluster runs DEDL's stack (distributed 2023.8.0), another image runs the newest
 * release, and an image the site does not offer is refused by the gateway itself.
 */
import assert from "node:assert/strict";
import { type NDArray, py } from "../../protocol/mod.ts";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { InvalidOptions } from "./errors.ts";
import { Gateway } from "./gateway.ts";
import { replicaLogin } from "./testing/replica_login.ts";

const ep = await readEndpoints();
const site = ep.sites.lumi;
const WAIT = { timeoutMs: 120_000 };

/** What the cluster's workers import: `distributed.__version__` and `numpy.__version__`. */
function installed(module: string) {
  return py.call("importlib.import_module", module).attr("__version__");
}

Deno.test("gateway image - the default image runs DEDL's stack, the other one the newest", async (t) => {
  await using auth = await replicaLogin();
  const gateway = new Gateway({ address: site.address, proxyAddress: site.proxy_address, auth });
  const spec = await gateway.clusterOptions();
  const image = spec.fields.find((f) => f.field === "image");
  assert.equal(image?.default, ep.default_image);

  // Per image: a numpy result and a chunked collection over the site's Zarr v2 dataset.
  const results = new Map<string, unknown[]>();
  const t2m = py.call("xarray.open_zarr", site.dataset, py.kwargs({ consolidated: false }))
    .item("t2m");
  for (const [name, { distributed }] of Object.entries(ep.images)) {
    await t.step(`${name}: scheduler and worker run distributed ${distributed}`, async () => {
      const options: Record<string, string> = name === ep.default_image ? {} : { image: name };
      await using cluster = await gateway.newCluster(options);
      await cluster.scale(1);
      await cluster.waitForWorkers(1, WAIT);
      await using client = await cluster.getClient();
      assert.equal(client.schedulerVersions.distributed, distributed);
      const [onWorker, numpy] = await client.gather([
        client.compute(installed("distributed")),
        client.compute(installed("numpy")),
      ]);
      assert.equal(onWorker, distributed);
      // DEDL's dask 2023.8.0 needs numpy 1.x; the newest runs on numpy 2.
      assert.equal(String(numpy).split(".")[0], distributed === "2023.8.0" ? "1" : "2");
      const mean = await client.computeCollection(py.collection(t2m.method("mean").attr("data")));
      const row = client.compute(
        t2m.method("isel", py.kwargs({ time: 0, lat: 45 })).attr("values"),
      );
      const [meanValue, rowValue] = await client.gather([mean, row]);
      results.set(name, [meanValue, (rowValue as NDArray).toNested()]);
    });
  }

  await t.step("both images compute the same values", () => {
    const [first, ...others] = [...results.values()];
    assert.equal(results.size, Object.keys(ep.images).length);
    assert.equal(typeof first[0], "number");
    for (const other of others) assert.deepEqual(other, first);
  });

  await t.step(
    "an image the site does not offer is InvalidOptions naming the choices",
    async () => {
      const before = (await gateway.listClusters()).length;
      await assert.rejects(gateway.newCluster({ image: "example.org/not-here:1" }), (e) => {
        assert.ok(e instanceof InvalidOptions, String(e));
        assert.match(e.serverMessage ?? "", /not available at this site; choose one of: /);
        assert.ok(e.serverMessage?.includes(ep.default_image));
        return true;
      });
      assert.equal((await gateway.listClusters()).length, before, "no cluster was started");
    },
  );
});
