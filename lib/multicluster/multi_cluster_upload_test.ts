/**
 * Uploaded modules on the replica's real dask-gateway clusters: on both images (DEDL's
 * distributed 2023.8.0 and the newest), through `scale` adding a worker, and `mc.uploadFile`
 * at every site and for clusters started afterwards.
 */
import assert from "node:assert/strict";
import { InvalidModuleSyntax, py } from "../../protocol/mod.ts";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { Gateway } from "../gateway/gateway.ts";
import { replicaLogin } from "../gateway/testing/replica_login.ts";
import { MultiCluster } from "./multi_cluster.ts";

const ep = await readEndpoints();
const WAIT = { timeoutMs: 120_000 };

const SEVERITY = await Deno.readTextFile(
  new URL("../../examples/flood_severity.py", import.meta.url),
);

/** The worker a task ran on, and the module's answer there. */
function classifyOnWorker() {
  return py.call("builtins.tuple", [
    py.call("builtins.eval", "__import__('distributed').get_worker().address", {
      nonce: crypto.randomUUID(),
    }),
    py.call("flood_severity.classes", [0.01, 0.1, 0.3, 0.9]).method("tolist"),
  ]);
}

Deno.test("upload file on gateway clusters - both images, a worker added by scale runs it too, restart", async (t) => {
  await using auth = await replicaLogin(0);
  const site = ep.sites.central;
  const gateway = new Gateway({ address: site.address, proxyAddress: site.proxy_address, auth });
  for (const [image, { distributed }] of Object.entries(ep.images)) {
    await t.step(`distributed ${distributed}`, async () => {
      const options: Record<string, string> = image === ep.default_image ? {} : { image };
      await using cluster = await gateway.newCluster({ worker_cores: 1, ...options });
      await cluster.scale(1);
      await cluster.waitForWorkers(1, WAIT);
      await using client = await cluster.getClient();
      assert.equal(client.schedulerVersions.distributed, distributed);

      const uploaded = await client.uploadFile({ name: "flood_severity.py", source: SEVERITY });
      assert.equal(uploaded.workers.length, 1);
      const [first, classes] = await client.compute(classifyOnWorker()).result(WAIT) as [
        string,
        number[],
      ];
      assert.deepEqual(classes, [0, 1, 2, 3]);
      assert.deepEqual(uploaded.workers, [first]);

      // scale adds a worker: the scheduler hands it the module as it registers.
      await cluster.scale(2);
      await cluster.waitForWorkers(2, WAIT);
      const workers = Object.keys((await client.identity()).workers);
      const added = workers.find((w) => w !== first);
      assert.ok(added, `a second worker: ${workers}`);
      const [ranOn, there] = await client.compute(classifyOnWorker(), { workers: [added] })
        .result(WAIT) as [string, number[]];
      assert.equal(ranOn, added);
      assert.deepEqual(there, [0, 1, 2, 3]);

      await assert.rejects(
        client.uploadFile({ name: "broken.py", source: "def f(:\n    pass\n" }),
        (e: unknown) => {
          assert.ok(e instanceof InvalidModuleSyntax, String(e));
          assert.equal(e.file, "broken.py");
          assert.equal(e.line, 1);
          assert.match(e.message, /^broken\.py, line 1: SyntaxError: /);
          return true;
        },
      );

      // restart: the gateway's workers run under nannies; the new processes get the module too.
      const pids = await client.run("os.getpid");
      await client.restart({ timeoutMs: 60_000 });
      assert.equal(Object.keys((await client.identity()).workers).length, 2);
      const newPids = await client.run("os.getpid");
      assert.equal(Object.keys(newPids).length, 2);
      for (const pid of Object.values(newPids)) assert.ok(!Object.values(pids).includes(pid));
      const [, afterRestart] = await client.compute(classifyOnWorker()).result(WAIT) as [
        string,
        number[],
      ];
      assert.deepEqual(afterRestart, [0, 1, 2, 3]);
    });
  }
});

Deno.test("upload file - mc.uploadFile reaches every site, and clusters started afterwards", async (t) => {
  await using auth = await replicaLogin(1);
  await using mc = await MultiCluster.connect({ auth, sites: ep.sites });
  const at = (location: string) =>
    py.call("flood_severity.classes", [0.3]).method("tolist").withAttrs({ location });

  await t.step("a module uploaded while only central has a cluster", async () => {
    const started = await mc.newCluster({ worker_cores: 1 }, {
      sites: ["central"],
      adapt: { minimum: 1, maximum: 1 },
    });
    assert.ok(started[0].ok, !started[0].ok ? started[0].error.message : "");
    const outcomes = await mc.uploadFile(
      new URL("../../examples/flood_severity.py", import.meta.url),
    );
    assert.deepEqual(outcomes.map((o) => [o.site, o.ok]), [["central", true]]);
    assert.deepEqual(await mc.compute(at("central")), [2]);
  });

  await t.step("a syntax error is reported per site and not kept for later clusters", async () => {
    const outcomes = await mc.uploadFile({ name: "broken.py", source: "x = (\n" });
    assert.equal(outcomes.length, 1);
    const [o] = outcomes;
    assert.ok(!o.ok && o.error instanceof InvalidModuleSyntax, String(!o.ok && o.error));
  });

  await t.step("a cluster started afterwards at lumi has the module", async () => {
    const started = await mc.newCluster({ worker_cores: 1 }, {
      sites: ["lumi"],
      adapt: { minimum: 1, maximum: 1 },
    });
    assert.ok(started[0].ok, !started[0].ok ? started[0].error.message : "");
    assert.deepEqual(await mc.compute(at("lumi")), [2]);
  });
  await mc.shutdown();
});
