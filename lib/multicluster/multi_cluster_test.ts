/**
 * The multi-site layer against the replica's two real sites.
 */
import assert from "node:assert/strict";
import { GraphBuildError, py, RemoteError } from "../../protocol/mod.ts";
import { freePort } from "../../tests/replica/process.ts";
import { ENDPOINTS_PATH, readEndpoints } from "../../tests/replica/endpoints.ts";
import { runCli } from "../cli/testing/cli_process.ts";
import { GatewayUnavailable } from "../gateway/errors.ts";
import { replicaLogin } from "../gateway/testing/replica_login.ts";
import { MissingLocation, SiteUnavailable, UnknownLocation } from "./errors.ts";
import { MultiCluster } from "./multi_cluster.ts";
import { SeededRandom } from "../../protocol/testing/seeded_random.ts";
import type { TokenSource } from "../auth/mod.ts";

const ep = await readEndpoints();
const small = { adapt: { minimum: 1, maximum: 2 } } as const;

/** A node that reports the site its worker runs at. */
function whereAmI(location: string) {
  return py.call(py.fn("os.getenv"), "DEDL_SITE").withAttrs({ location });
}

Deno.test("multicluster - clusters at both sites, routing by location, shutdown", async (t) => {
  await using auth = await replicaLogin(0);
  const mc = await MultiCluster.connect({ auth, sites: ep.sites });
  try {
    assert.deepEqual(mc.availableSites.sort(), ["central", "lumi"]);
    for (const s of mc.status()) assert.match(s.version ?? "", /^\d{4}\./);

    await t.step("newCluster starts one cluster per site in parallel", async () => {
      const outcomes = await mc.newCluster({ worker_cores: 1, worker_memory: 1 }, small);
      for (const o of outcomes) assert.ok(o.ok, `${o.site}: ${!o.ok && o.error.message}`);
      const links = mc.dashboardLinks();
      assert.deepEqual(Object.keys(links).sort(), ["central", "lumi"]);
      for (const [site, link] of Object.entries(links)) {
        assert.ok(link.startsWith(ep.sites[site].address), link);
      }
    });

    await t.step("a node tagged location=X runs at site X", async () => {
      assert.equal(await mc.compute(whereAmI("lumi")), "lumi");
      assert.equal(await mc.compute(whereAmI("central")), "central");
      const derived = whereAmI("lumi").method("upper");
      assert.equal(derived.attrs.location, "lumi");
      assert.equal(await mc.compute(derived), "LUMI");
    });

    await t.step("task options travel with the node to its site's scheduler", async () => {
      const workers = Object.keys((await mc.site("lumi").client.identity()).workers);
      assert.ok(workers.length > 0, "lumi has a worker");
      const target = workers[workers.length - 1];
      const address = py.call("builtins.eval", "__import__('distributed').get_worker().address", {
        nonce: crypto.randomUUID(),
      }).withAttrs({ location: "lumi" });
      assert.equal(await mc.compute(address, { workers: [target] }), target);
      await assert.rejects(mc.compute(address, { retries: -1 }), GraphBuildError);
    });

    await t.step("each site reads its own dataset", async () => {
      const means = await mc.computeAll(
        ["central", "lumi"].map((site) =>
          py.call(
            py.fn("xarray.open_zarr"),
            ep.sites[site].dataset,
            py.kwargs({ consolidated: false, chunks: null }),
          )
            .item("t2m").method("mean").method("item").withAttrs({ location: site })
        ),
      );
      const values = means.map((m) => {
        assert.ok(m.ok, !m.ok ? m.error.message : "");
        return m.value as number;
      });
      assert.ok(values.every((v) => v > 250 && v < 320), String(values));
      assert.notEqual(values[0], values[1]);
    });

    await t.step("computeAll runs the sites concurrently, in input order", async () => {
      const sleepy = (site: string) =>
        py.call(py.fn("time.sleep"), 3).withAttrs({ location: site });
      const started = Date.now();
      const outcomes = await mc.computeAll([
        sleepy("central"),
        sleepy("lumi"),
        whereAmI("lumi"),
        whereAmI("nowhere"),
        py.call(py.fn("operator.truediv"), 1, 0).withAttrs({ location: "central" }),
      ]);
      const elapsed = Date.now() - started;
      // Sequential would be >= 6 s; concurrent is about 3 s. A loose bound only.
      assert.ok(elapsed < 5_900, `took ${elapsed} ms`);
      assert.deepEqual(outcomes.slice(0, 3).map((o) => o.ok && o.value), [null, null, "lumi"]);
      assert.ok(!outcomes[3].ok && outcomes[3].error instanceof UnknownLocation);
      assert.ok(!outcomes[4].ok && outcomes[4].error instanceof RemoteError);
      assert.equal(outcomes[4].site, "central");
    });

    await t.step("unknown or missing location names the known sites", async () => {
      await assert.rejects(mc.compute(whereAmI("mars")), (e: Error) => {
        assert.ok(e instanceof UnknownLocation);
        assert.match(e.message, /"mars".*known sites: central, lumi/);
        return true;
      });
      await assert.rejects(
        mc.compute(py.call(py.fn("os.getenv"), "DEDL_SITE")),
        (e: Error) => e instanceof MissingLocation && /central, lumi/.test(e.message),
      );
    });

    await t.step("withSite scopes work to one site", async () => {
      const site = await mc.withSite("central", async ({ client }) => {
        return await client.submit(py.fn("os.getenv"), "DEDL_SITE").result();
      });
      assert.equal(site, "central");
    });
  } finally {
    const outcomes = await mc.shutdown();
    for (const o of outcomes) assert.ok(o.ok && o.value === "STOPPED", JSON.stringify(o));
    assert.deepEqual(await mc.shutdown(), []);
  }
  for (const report of await mc.clusters()) {
    assert.ok(report.ok);
    assert.deepEqual(report.value, [], `${report.site} still has clusters`);
  }
});

Deno.test("multicluster - a site whose gateway is down is reported; the other works", async () => {
  await using auth = await replicaLogin(0);
  const down = `http://127.0.0.1:${freePort()}`;
  const sites = {
    central: ep.sites.central,
    lumi: { ...ep.sites.lumi, address: down, proxy_address: down.replace("http", "tcp") },
  };
  await using mc = await MultiCluster.connect({
    auth,
    sites,
    probeTimeoutMs: 5_000,
  });
  const lumi = mc.status().find((s) => s.site === "lumi")!;
  assert.equal(lumi.available, false);
  assert.ok(lumi.error && lumi.error.length > 0, "the cause is recorded");
  assert.ok(lumi.failure instanceof GatewayUnavailable, `typed: ${lumi.failure}`);
  const outcomes = await mc.newCluster({}, small);
  assert.deepEqual(outcomes.map((o) => [o.site, o.ok]), [["central", true]]);
  assert.equal(await mc.compute(whereAmI("central")), "central");
  await assert.rejects(mc.compute(whereAmI("lumi")), SiteUnavailable);
  const stopped = await mc.shutdown();
  assert.deepEqual(stopped.map((o) => [o.site, o.ok]), [["central", true]]);
});

/**
 * Runs `testing/interrupted_script.ts` (its cluster journal in `journal`) until it prints
 * `ready`, then sends it `signal`.
 */
async function interruptScript(
  args: string[],
  ready: string,
  whileRunning: () => Promise<void>,
  signal: Deno.Signal,
  journal?: string,
): Promise<{ code: number; stderr: string }> {
  const script = new URL("./testing/interrupted_script.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    env: journal ? { DEDL_DASK_JOURNAL: journal } : {},
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const killer = setTimeout(() => child.kill("SIGKILL"), 180_000);
  try {
    let seen = "";
    while (!seen.includes(ready)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    if (!seen.includes(ready)) assert.fail(`the script did not print "${ready}": ${await stderr}`);
    await whileRunning();
    child.kill(signal);
    const status = await child.status;
    await reader.cancel().catch(() => {});
    // A cold cache makes deno itself print `Download …` lines; they are not the script's.
    return {
      code: status.code,
      stderr: (await stderr).replace(/^(Download|Initialize)\b.*\n?/gm, ""),
    };
  } finally {
    clearTimeout(killer);
  }
}

/** The second replica user's PENDING and RUNNING clusters at both sites, asked over HTTP. */
async function activeClusters(auth: TokenSource): Promise<string[]> {
  const names: string[] = [];
  for (const site of Object.values(ep.sites)) {
    const res = await fetch(`${site.address}/api/v1/clusters/?status=pending,running`, {
      headers: { Authorization: `Bearer ${await auth.accessToken()}` },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 200);
    names.push(...Object.keys(await res.json()).map((n) => `${site.name}: ${n}`));
  }
  return names;
}

Deno.test("multicluster - stopClustersOnSignal: SIGINT mid-computation leaves no cluster on any site", async () => {
  // The script runs as the replica's second user; checked over plain HTTP as that user.
  await using login = await replicaLogin(1);
  const activeClustersNow = () => activeClusters(login);
  assert.deepEqual(await activeClustersNow(), [], "precondition: the user has no clusters");
  const { code, stderr } = await interruptScript([], "computing", async () => {
    assert.equal((await activeClustersNow()).length, 2, "one cluster per site while it runs");
  }, "SIGINT");
  assert.equal(code, 130, stderr);
  // The script's own line, and nothing from the library.
  assert.equal(stderr, "script: SIGINT: stopping\n");
  assert.deepEqual(await activeClustersNow(), []);
});

Deno.test("multicluster - SIGINT at any moment of the start (PENDING, RUNNING, connecting) leaves no cluster", async () => {
  await using login = await replicaLogin(1);
  assert.deepEqual(await activeClusters(login), [], "precondition: the user has no clusters");
  // Seeded delays after "connected" spread over a start (~2-4 s here): before the create
  // request, while PENDING, around RUNNING, while the client connects, once computing.
  const rnd = new SeededRandom(15);
  const delays = [0, 50, ...Array.from({ length: 4 }, () => 100 + rnd.int(3900)), 6000];
  for (const delay of delays) {
    const { code, stderr } = await interruptScript(
      [],
      "connected",
      () => new Promise((r) => setTimeout(r, delay)),
      "SIGINT",
    );
    assert.equal(code, 130, `after ${delay} ms: ${stderr}`);
    assert.deepEqual(await activeClusters(login), [], `SIGINT after ${delay} ms left clusters`);
  }
});

Deno.test("multicluster - clusters of a killed process are orphans: reported, then stopped", async () => {
  await using login = await replicaLogin(1);
  assert.deepEqual(await activeClusters(login), [], "precondition: the user has no clusters");
  const journal = await Deno.makeTempDir({ prefix: "dedl-journal-" });
  try {
    await interruptScript([], "computing", () => Promise.resolve(), "SIGKILL", journal);
    assert.equal((await activeClusters(login)).length, 2, "SIGKILL stops nothing");

    const warned: string[] = [];
    await using mc = await MultiCluster.connect({
      auth: login,
      sites: ep.sites,
      journal,
      onWarning: (site, w) => warned.push(`${site} ${w.code}`),
    });
    assert.deepEqual(warned.sort(), ["central ORPHANED_CLUSTERS", "lumi ORPHANED_CLUSTERS"]);
    assert.deepEqual(mc.orphans().map((o) => o.site).sort(), ["central", "lumi"]);

    // The command line finds and stops them through the same journal.
    const cli = await runCli(
      [
        "stop",
        "--orphans",
        "--sites",
        ENDPOINTS_PATH,
        "-u",
        ep.users[1].username,
        "--password-stdin",
      ],
      { stdin: ep.users[1].password, env: { DEDL_DASK_JOURNAL: journal } },
    );
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stderr, /started by processes that are gone/);
    const names = mc.orphans().map((o) => o.name);
    for (const name of names) assert.match(cli.stdout, new RegExp(`${name}\\s+STOPPED`));
    assert.deepEqual(await activeClusters(login), []);
    assert.deepEqual([...Deno.readDirSync(journal)], [], "the journal forgot them");
    // Nothing left for the API either; stopping them again is harmless.
    const again = await mc.stopOrphans();
    assert.ok(again.every((o) => o.ok), JSON.stringify(again));
  } finally {
    await Deno.remove(journal, { recursive: true });
  }
});

Deno.test("multicluster - the deprecated handleSignals option still exits 130 / 143, silently", async () => {
  for (const [signal, expected] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    const { code, stderr } = await interruptScript(
      ["deprecated-option"],
      "waiting",
      () => Promise.resolve(),
      signal,
    );
    assert.equal(code, expected, stderr);
    assert.equal(stderr, "");
  }
});
