/**
 * The seed as a Deno notebook, run for real: Deno's Jupyter kernel installed into a temporary
 * Jupyter folder, `examples/dedl_dask.ipynb` executed headless by Jupyter's own executor
 * (nbclient) against the running replica, and its outputs checked — the sites table with
 * dashboard links, the scaled cluster, progress bars, the values (against Python's xarray on the
 * same stores), the 2-D map as an image, the failed task's traceback, and no cluster left at
 * either gateway.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Gateway } from "../lib/gateway/mod.ts";
import { replicaLogin } from "../lib/gateway/testing/replica_login.ts";
import { referenceArray, xarrayCompute } from "../lib/dataset/testing/xarray_reference.ts";
import { ENDPOINTS_PATH, readEndpoints } from "../tests/replica/endpoints.ts";
import { type CellOutput, DenoJupyter } from "../tests/jupyter/jupyter_env.ts";

const NOTEBOOK = fileURLToPath(new URL("./dedl_dask.ipynb", import.meta.url));
/** The replica user the notebook logs in as (by index in the endpoints file). */
const USER = 1;

const ep = await readEndpoints();

/** The outputs of the code cell whose source starts with `start`. */
function outputsOf(
  cells: { source: string; outputs: CellOutput[] }[],
  start: string | RegExp,
): CellOutput[] {
  const cell = cells.find((c) =>
    typeof start === "string" ? c.source.startsWith(start) : start.test(c.source)
  );
  assert.ok(cell, `no cell starting with ${start}`);
  return cell.outputs;
}

const textOf = (outputs: CellOutput[]) =>
  outputs.filter((o) => o.output_type === "stream").map((o) => o.text).join("");
const bundleOf = (outputs: CellOutput[], type = "execute_result") => {
  const found = outputs.find((o) => o.output_type === type);
  assert.ok(found?.data, `no ${type} in ${JSON.stringify(outputs).slice(0, 2000)}`);
  return found.data;
};

Deno.test("notebook - the seed in a Deno notebook, executed by nbclient against the replica", async () => {
  const urls = Object.fromEntries(
    Object.entries(ep.sites).map(([site, s]) => [site, s.dataset_urls!.temperature]),
  );
  const reference = xarrayCompute(
    ep.python,
    Object.fromEntries(
      Object.keys(urls).map((site) => [site, `xr.open_zarr(${site})["t2m"].mean()`]),
    ),
    urls,
  );
  await using jupyter = await DenoJupyter.install();
  // The kernel runs the deno npm installed (`npx deno@…`), named by its path: it runs as is.
  const kernel = jupyter.kernelSpec.argv[0];
  const version = await new Deno.Command(kernel, { args: ["--version"], stdout: "piped" }).output();
  assert.match(new TextDecoder().decode(version.stdout), new RegExp(`^deno ${Deno.version.deno} `));
  assert.deepEqual(jupyter.kernelSpec.argv.slice(1), [
    "jupyter",
    "--kernel",
    "--conn",
    "{connection_file}",
  ]);

  const run = await jupyter.execute(NOTEBOOK, {
    env: { DEDL_DASK_REPLICA: ENDPOINTS_PATH, DEDL_DASK_REPLICA_USER: String(USER) },
  });
  await using auth = await replicaLogin(USER);
  const started = [
    ...textOf(outputsOf(run.cells, "// On the small replica")).matchAll(
      /^(\w+): cluster ([0-9a-f]{32})$/gm,
    ),
  ].map((m) => ({ site: m[1], name: m[2] }));
  try {
    assert.equal(run.error, null, run.error ?? "");

    // Logged in without typing; the sites table before any cluster.
    assert.equal(
      textOf(outputsOf(run.cells, "// The replica's endpoints")),
      `Logged in as ${ep.users[USER].username}.\n`,
    );
    const before = bundleOf(outputsOf(run.cells, "const mc = await MultiCluster.connect"));
    assert.match(before["text/html"], /<table>.*<b>central<\/b>.*<b>lumi<\/b>/s);
    assert.match(before["text/plain"], /^central .* up \(dask-gateway /m);

    // A cluster at each site; central scaled to two workers.
    assert.deepEqual(started.map((s) => s.site).sort(), ["central", "lumi"]);
    const central = bundleOf(outputsOf(run.cells, "const central = mc.site"));
    assert.match(central["text/plain"], /status +RUNNING\nworkers +2 \(2 threads\)/);

    // The dashboard links, clickable, one per site's cluster.
    const sites = bundleOf(outputsOf(run.cells, /^mc;?$/));
    for (const { site, name } of started) {
      const link = `${ep.sites[site].address}/clusters/${name}/status`;
      assert.ok(
        sites["text/html"].includes(
          `<a href="${link}" target="_blank" rel="noopener">dashboard</a>`,
        ),
        `${site}'s dashboard link in ${sites["text/html"]}`,
      );
      assert.match(sites["text/plain"], new RegExp(`^${site} .* ${name} +\\d+ \\(`, "m"));
    }

    // Computed where the data is: progress bars that ended, and Python's values.
    const means = outputsOf(run.cells, "// Your datasets on DEDL");
    const bars = bundleOf(means, "display_data");
    assert.match(bars["text/plain"], /^central .* (\d+)\/\1 tasks +100% .* done$/m);
    assert.match(bars["text/plain"], /^lumi .* (\d+)\/\1 tasks +100% .* done$/m);
    assert.match(bars["text/html"], /class="dedl-dask-progress"/);
    const expected = await reference;
    for (const site of Object.keys(urls)) {
      const m = new RegExp(`^${site}: mean t2m (\\S+)$`, "m").exec(textOf(means));
      assert.ok(m, `${site}'s mean in ${textOf(means)}`);
      const want = Number(referenceArray(expected[site].values).get());
      assert.ok(Math.abs(Number(m[1]) - want) < 1e-4, `${site}: ${m[1]} against xarray's ${want}`);
    }

    // A 2-D result as an image.
    const map = bundleOf(outputsOf(run.cells, "const floodUrl"));
    const png = Uint8Array.from(atob(map["image/png"]), (c) => c.charCodeAt(0));
    const view = new DataView(png.buffer);
    const [width, height] = [view.getUint32(16), view.getUint32(20)];
    assert.equal(map["text/plain"], `flood [y: ${height}, x: ${width}] <f4`);
    assert.ok(width > 10 && height > 10);

    // A failed task with its remote traceback.
    const failed = bundleOf(outputsOf(run.cells, "const [failed]"));
    assert.match(failed["text/html"], /ZeroDivisionError<\/b>: division by zero/);
    assert.match(failed["text/html"], /<pre[^>]*>Traceback \(on the worker\):\n.*File/s);

    // Shut down: nothing left at either gateway.
    assert.equal(
      textOf(outputsOf(run.cells, "for (const o of await mc.shutdown())")),
      "central: STOPPED\nlumi: STOPPED\nclusters left: 0\n",
    );
    for (const [site, s] of Object.entries(ep.sites)) {
      const gateway = new Gateway({ address: s.address, proxyAddress: s.proxy_address, auth });
      const running = await gateway.listClusters();
      assert.deepEqual(
        running.filter((c) => started.some((x) => x.name === c.name)).map((c) => c.name),
        [],
        `${site} still has the notebook's clusters`,
      );
    }
  } finally {
    // A failed run must not leave clusters behind either.
    for (const { site, name } of started) {
      const s = ep.sites[site];
      await new Gateway({ address: s.address, proxyAddress: s.proxy_address, auth })
        .stopCluster(name).catch(() => {});
    }
  }
});
