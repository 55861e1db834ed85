/**
 * `examples/flood_workflow.ts --replica` run as its users run it: clusters only where the data
 * is, the scientist's own module uploaded, every step at its dataset's site. It must end with
 * exit 0, print the flooded area (central) and the accumulated rainfall (LUMI) as Python's xarray
 * computes them from the same stores, write both quick-looks as PNG files, and leave no cluster.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Gateway } from "../lib/gateway/mod.ts";
import { replicaLogin } from "../lib/gateway/testing/replica_login.ts";
import { referenceArray, xarrayCompute } from "../lib/dataset/testing/xarray_reference.ts";
import { readEndpoints } from "../tests/replica/endpoints.ts";
import { failedRun, runExample } from "./testing/example_run.ts";

const ep = await readEndpoints();
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

Deno.test("example flood_workflow - each step at its dataset's site, as xarray computes it", async () => {
  const flood = ep.sites.central.dataset_urls!.flood;
  const rain = ep.sites.lumi.dataset_urls!.precipitation;
  const reference = await xarrayCompute(ep.python, {
    area: 'xr.open_zarr(flood)["flood"].sum() * 20 * 20 / 1000',
    rain: '(xr.open_zarr(rain)["precipitation"].sel(lat=slice(31, 23), lon=slice(65, 71))' +
      '.cumsum("time") * 1000).isel(time=-1).mean()',
  }, { flood, rain });
  const value = (name: string) => Number(referenceArray(reference[name].values).toNested());

  await using auth = await replicaLogin(0);
  const gateways = Object.values(ep.sites).map((s) => new Gateway({ address: s.address, auth }));
  const active = async () =>
    (await Promise.all(gateways.map((g) => g.listClusters()))).flat().map((c) => c.name);
  const before = new Set(await active());
  const out = await Deno.makeTempDir({ prefix: "flood-workflow-" });
  try {
    const run = await runExample("flood_workflow.ts", [
      "--replica",
      "--workers",
      "2",
      "--out",
      out,
    ]);
    assert.equal(run.code, 0, failedRun(run));
    // Printed without decimals; float32 sums may differ in the last digits by summation order.
    const printed = (pattern: RegExp) => Number(pattern.exec(run.stdout)?.[1]);
    const near = (got: number, want: number, what: string) =>
      assert.ok(
        Math.abs(got - want) <= Math.max(1, 1e-5 * Math.abs(want)),
        `${what} ${got} ≠ ${want}`,
      );
    near(printed(/^ {2}flooded area \(central\) {2}(\d+) /m), value("area"), "flooded area");
    near(printed(/^ {2}accumulated rainfall \(lumi\) {2}mean (\d+) /m), value("rain"), "rainfall");
    assert.match(
      run.stdout,
      /flood severity per 500 m cell \(central, flood_severity\.py\): dry \d+/,
    );
    for (const name of ["flood-map.png", "accumulated-rain.png"]) {
      const png = await Deno.readFile(join(out, name));
      assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE, `${name} is a PNG`);
    }
    assert.match(run.stdout, /^ {2}central: STOPPED$/m);
    assert.match(run.stdout, /^ {2}lumi: STOPPED$/m);
    assert.deepEqual((await active()).filter((n) => !before.has(n)), [], "no cluster left");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
