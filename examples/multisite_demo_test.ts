/**
 * README's first command, run for real: `examples/multisite_demo.ts --replica` as a program of its
 * own against the running replica, logged in with a DEDL account and with a DESP-only one. Each
 * run must end with exit 0, print each site's values as Python's xarray computes them from the
 * same stores, route each dataset to its own site, and leave no cluster at either gateway.
 */
import assert from "node:assert/strict";
import { Gateway } from "../lib/gateway/mod.ts";
import { replicaLogin } from "../lib/gateway/testing/replica_login.ts";
import { referenceArray, xarrayCompute } from "../lib/dataset/testing/xarray_reference.ts";
import { readEndpoints } from "../tests/replica/endpoints.ts";
import { failedRun, runExample } from "./testing/example_run.ts";

const ep = await readEndpoints();

/** `mean … min … max …` per site, as the demo prints them (3 decimals). */
function printedValues(stdout: string): Record<string, string[]> {
  const rows = stdout.matchAll(/^ {2}(\w+) +mean (\S+) {2}min (\S+) {2}max (\S+)$/gm);
  return Object.fromEntries([...rows].map((m) => [m[1], [m[2], m[3], m[4]]]));
}

Deno.test("demo - README's first command computes each dataset at its own site, as xarray does", async (t) => {
  const urls = Object.fromEntries(
    Object.entries(ep.sites).map(([site, s]) => [site, s.dataset_urls!.temperature]),
  );
  const reference = await xarrayCompute(
    ep.python,
    Object.fromEntries(
      Object.keys(urls).flatMap((site) =>
        ["mean", "min", "max"].map((f) => [`${site}_${f}`, `xr.open_zarr(${site})["t2m"].${f}()`])
      ),
    ),
    urls,
  );
  const expected = Object.fromEntries(
    Object.keys(urls).map((site) => [
      site,
      ["mean", "min", "max"].map((f) =>
        Number(referenceArray(reference[`${site}_${f}`].values).toNested()).toFixed(3)
      ),
    ]),
  );

  await using auth = await replicaLogin(0);
  const gateways = Object.values(ep.sites).map((s) => new Gateway({ address: s.address, auth }));
  const active = async () =>
    (await Promise.all(gateways.map((g) => g.listClusters()))).flat().map((c) => c.name);
  const before = new Set(await active());

  for (
    const [label, args, user] of [
      ["a DEDL account", [], ep.users[0].username],
      ["a DESP-only account (token exchanged at DEDL)", ["--desp"], null],
    ] as const
  ) {
    await t.step(label, async () => {
      const run = await runExample("multisite_demo.ts", ["--replica", ...args]);
      assert.equal(run.code, 0, failedRun(run));
      const { stdout } = run;
      if (user) assert.match(stdout, new RegExp(`^Logged in as ${user}\\.$`, "m"));
      assert.deepEqual(printedValues(stdout), expected);
      // Each site started its own cluster, and stopped it at the end.
      const started = [...stdout.matchAll(/^ {2}(\w+): cluster ([0-9a-f]{32})$/gm)];
      assert.deepEqual(started.map((m) => m[1]).sort(), Object.keys(urls).sort());
      for (const site of Object.keys(urls)) {
        assert.match(stdout, new RegExp(`^ {2}${site}: STOPPED$`, "m"));
      }
      if (user) {
        // Asked at the gateways with that account's own token.
        const left = (await active()).filter((name) => !before.has(name));
        assert.deepEqual(left, [], "no cluster of the demo's left at either gateway");
      }
    });
  }
});
