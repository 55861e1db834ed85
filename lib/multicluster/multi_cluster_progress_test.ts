/**
 * Compute progress per site on the replica's real clusters: central runs DEDL's image
 * (distributed 2023.8.0), lumi the newest (the official Dask image), each computing a dataset
 * expression over its large store; reports are summed per site and end once per site, before the
 * call returns. Also the notebook displays of the sites and clusters, from the real gateways and
 * schedulers.
 */
import assert from "node:assert/strict";
import { type Displayable, htmlLink, JUPYTER_DISPLAY, type MimeBundle } from "../../base/mod.ts";
import { py, type TaskProgress } from "../../protocol/mod.ts";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { replicaLogin } from "../gateway/testing/replica_login.ts";
import { openDataset } from "../dataset/mod.ts";
import { MultiCluster } from "./multi_cluster.ts";

const ep = await readEndpoints();
const WAIT = { timeoutMs: 300_000 };
const NEWEST = Object.keys(ep.images!).find((i) => i !== ep.default_image)!;

/** Every report, with the invariants each must keep, and each site's reports apart. */
class Reports {
  readonly all: TaskProgress[] = [];
  readonly onProgress = (p: TaskProgress) => {
    assert.ok(p.site, "every report names its site");
    assert.equal(p.waiting + p.processing + p.memory + p.erred, p.total);
    assert.ok(!this.of(p.site).some((r) => r.final), `a report after ${p.site}'s final one`);
    this.all.push(p);
  };
  of(site: string): TaskProgress[] {
    return this.all.filter((p) => p.site === site);
  }
}

Deno.test("multicluster progress and displays - per site, on DEDL's 2023.8.0 and the newest release", async (t) => {
  const steps = { sanitizeOps: false, sanitizeResources: false };
  await using auth = await replicaLogin(0);
  const defaults = new Reports();
  const mc = await MultiCluster.connect({
    auth,
    sites: ep.sites,
    onComputeProgress: defaults.onProgress,
  });
  try {
    const adapt = { adapt: { minimum: 1, maximum: 1 } };
    const started = await Promise.all([
      mc.newCluster({ worker_cores: 2, worker_memory: 2 }, { ...adapt, sites: ["central"] }),
      mc.newCluster({ worker_cores: 2, worker_memory: 2, image: NEWEST }, {
        ...adapt,
        sites: ["lumi"],
      }),
    ]);
    for (const o of started.flat()) assert.ok(o.ok, `${o.site}: ${!o.ok && o.error.message}`);
    assert.equal(mc.site("central").client.dialect.distributed, "2023.8.0");
    assert.equal(mc.site("lumi").client.dialect.era, "expr");
    for (const site of ["central", "lumi"]) await mc.site(site).cluster.waitForWorkers(1, WAIT);

    const flood = (await openDataset(ep.sites.central.dataset_urls!.flood)).var("flood");
    const rain = (await openDataset(ep.sites.lumi.dataset_urls!.precipitation)).var(
      "precipitation",
    );

    await t.step({
      name: "computeAll: one report series per site, final before the call returns",
      ...steps,
      fn: async () => {
        const reports = new Reports();
        const results = await mc.computeAll([
          flood.sum(),
          flood.max(),
          rain.sum("time").mean(),
          py.call("os.getenv", "DEDL_SITE").withAttrs({ location: "lumi" }),
        ], { ...WAIT, onProgress: reports.onProgress, progressIntervalMs: 100 });
        for (const r of results) assert.ok(r.ok, !r.ok ? r.error.message : "");
        for (const site of ["central", "lumi"]) {
          const series = reports.of(site);
          const final = series.at(-1)!;
          assert.equal(series.filter((p) => p.final).length, 1, `${site}: one final report`);
          assert.equal(final.state, "finished");
          assert.equal(new Set(series.map((p) => p.id)).size, 1, `${site}: one id`);
          // Two reductions over 128 chunks at central; at lumi the rainfall and a plain task.
          assert.ok(final.total > (site === "central" ? 256 : 128), `${site}: ${final.total}`);
          assert.equal(final.memory, final.total);
          assert.ok(
            series.some((p) => !p.final && p.memory > 0 && p.memory < p.total),
            `${site}: counts while it ran: ${series.map((p) => `${p.memory}/${p.total}`)}`,
          );
        }
        assert.equal(defaults.all.length, 0, "the call's own listener took the reports");
      },
    });

    await t.step({
      name: "notebook displays: the sites with workers and dashboard links, each cluster",
      ...steps,
      fn: async () => {
        const bundle = await mc[JUPYTER_DISPLAY]();
        for (const site of ["central", "lumi"]) {
          const { cluster } = mc.site(site);
          assert.ok(
            bundle["text/html"].includes(htmlLink(cluster.dashboardLink, "dashboard")),
            `${site}'s dashboard link in ${bundle["text/html"]}`,
          );
          assert.match(
            bundle["text/plain"],
            new RegExp(`${site} .* ${cluster.name} +1 \\(2 threads, `),
          );
        }
        const status = mc.status() as unknown as Displayable;
        assert.equal(
          (status[JUPYTER_DISPLAY]() as MimeBundle)["text/plain"].split("\n").length,
          3,
          "a header and a line per site",
        );
        assert.ok(!JSON.stringify(mc.status()).includes("Jupyter"));
        const lumi = await mc.site("lumi").cluster[JUPYTER_DISPLAY]();
        assert.match(lumi["text/plain"], /status +RUNNING\nworkers +1 \(2 threads\)/);
        assert.ok(lumi["text/plain"].includes(`image=${NEWEST}`));
        assert.ok(lumi["text/html"].includes(htmlLink(mc.site("lumi").cluster.dashboardLink)));
      },
    });

    await t.step({
      name: "the connection's default listener; a failure ends its site as failed",
      ...steps,
      fn: async () => {
        const bad = py.call("operator.truediv", 1, 0).withAttrs({ location: "central" });
        const ok = py.call("operator.add", 1, 2).withAttrs({ location: "lumi" });
        const [a, b] = await mc.computeAll([bad, ok]);
        assert.ok(!a.ok && b.ok);
        assert.equal(defaults.of("central").at(-1)?.state, "failed");
        assert.equal(defaults.of("central").at(-1)?.erred, 1);
        assert.equal(defaults.of("lumi").at(-1)?.state, "finished");
        // A computation that never reaches a site still ends its report.
        defaults.all.length = 0;
        await assert.rejects(mc.compute(py.call("operator.add", 1, 2)), /location/);
        assert.deepEqual(defaults.all.map((p) => [p.state, p.final]), [["failed", true]]);
      },
    });
  } finally {
    for (const o of await mc.shutdown()) assert.ok(o.ok, `${o.site}: ${!o.ok && o.error.message}`);
  }
});
