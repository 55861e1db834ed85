/**
 * Fault: the answer to a create request is lost. A toxic on the gateway API link, switched on
 * only while the create request (`POST /api/v1/clusters/`) is under way, cuts or holds the
 * gateway's answer after the gateway received the request: the gateway created a cluster whose
 * name never reached the client. The client lists the user's clusters before each create and
 * again after such a failure: the one new cluster is stopped and named in `CreateAnswerLost`,
 * in bounded time, through `Gateway` and `MultiCluster` alike (and an unreadable answer the
 * same way). When the request never reached the gateway (cut upstream), nothing new appears and
 * nothing is stopped; a refused connection is no lost answer at all. A cluster another session
 * started meanwhile makes the new clusters ambiguous: none is stopped, both are reported
 * (`PossibleOrphans`); one that a live process's journal entry names is not taken for ours. A
 * found cluster that cannot be stopped then is reported and stopped by `shutdown()`.
 */
import assert from "node:assert/strict";
import {
  type ClusterStatus,
  CreateAnswerLost,
  Gateway,
  type GatewayCluster,
  GatewayUnavailable,
  type GatewayWarning,
  PossibleOrphans,
  UnexpectedResponse,
} from "../../lib/gateway/mod.ts";
import { replicaLogin } from "../../lib/gateway/testing/replica_login.ts";
import { MultiCluster, type MultiClusterWarning } from "../../lib/multicluster/mod.ts";
import { ClusterJournal } from "../../lib/multicluster/cluster_journal.ts";
import { FaultySites, SMALL_CLUSTER, timed } from "./faulty_sites.ts";
import type { ToxicProxy, ToxicSpec } from "./toxiproxy.ts";

const GATEWAY_TIMEOUT_MS = 3_000;
/** A failed create: the request (cut at once, or held for the timeout), the list, the stop. */
const BOUND_MS = GATEWAY_TIMEOUT_MS + 15_000;

/** The gateway's answer is dropped and the connection closed (the request got through). */
const ANSWER_CUT: ToxicSpec = {
  type: "limit_data",
  name: "answer_cut",
  stream: "downstream",
  attributes: { bytes: 0 },
};
/** The gateway's answer is held: the client's timeout ends the wait. */
const ANSWER_HELD: ToxicSpec = {
  type: "timeout",
  name: "answer_held",
  stream: "downstream",
  attributes: { timeout: 0 },
};
/** The request is held: the gateway gets nothing, the client's timeout ends the wait. */
const REQUEST_HELD: ToxicSpec = {
  type: "timeout",
  name: "request_held",
  stream: "upstream",
  attributes: { timeout: 0 },
};
/** The request is dropped and the connection closed: the gateway gets nothing. */
const REQUEST_CUT: ToxicSpec = {
  type: "limit_data",
  name: "request_cut",
  stream: "upstream",
  attributes: { bytes: 0 },
};

function isCreate(input: RequestInfo | URL, init?: RequestInit): boolean {
  return init?.method === "POST" && new URL(String(input)).pathname.endsWith("/api/v1/clusters/");
}

/** A `fetch` that sends create requests through `fault`, everything else as it is. */
function faultOnCreate(fault: (send: () => Promise<Response>) => Promise<Response>): typeof fetch {
  return (input, init) =>
    isCreate(input, init) ? fault(() => fetch(input, init)) : fetch(input, init);
}

/** A `fetch` that puts `toxic` on `proxy` while a create request is under way. */
function toxicOnCreate(proxy: ToxicProxy, toxic: ToxicSpec): typeof fetch {
  return faultOnCreate(async (send) => {
    const name = await proxy.addToxic(toxic);
    try {
      return await send();
    } finally {
      await proxy.removeToxic(name);
    }
  });
}

/** A cluster another session started, once the gateway created it. */
interface OtherStart {
  readonly name: string;
  /** Its start: the cluster once running, `null` when the start failed (stopped meanwhile). */
  readonly started: Promise<GatewayCluster | null>;
}

/**
 * Starts a cluster as another session would, directly at `gateway`, and resolves once the
 * gateway named it (remembered in `clusters` for the final orphan check). Its start settles
 * later; its failure is handled at once, since a test that stops the cluster while it is still
 * pending would otherwise leave a rejection no handler has reached yet.
 */
function startOther(
  gateway: Gateway,
  site: string,
  clusters: Map<string, string>,
): Promise<OtherStart> {
  return new Promise((resolve, reject) => {
    const started = gateway.newCluster(SMALL_CLUSTER, {
      onCreated: (name) => {
        clusters.set(name, site);
        resolve({ name, started });
      },
    }).catch((error) => {
      reject(error); // no effect once named
      return null;
    });
  });
}

Deno.test("faults - a lost create answer: the cluster the gateway created is found and stopped", async (t) => {
  await using auth = await replicaLogin(0);
  await using sites = await FaultySites.start(["central", "lumi"]);
  const direct = Object.fromEntries(
    ["central", "lumi"].map((site) => [
      site,
      new Gateway({ address: sites.direct[site].address, auth, timeoutMs: 10_000 }),
    ]),
  );
  /** The user's active clusters at a site, asked directly (not through Toxiproxy). */
  const active = async (site: string) =>
    new Set((await direct[site].listClusters()).map((c) => c.name));
  /** A gateway client of a site through Toxiproxy, sending with `fetch`. */
  const viaProxy = (site: string, fetch: typeof globalThis.fetch, warnings?: GatewayWarning[]) =>
    new Gateway({
      address: sites.registry[site].address,
      proxyAddress: sites.registry[site].proxy_address,
      auth,
      timeoutMs: GATEWAY_TIMEOUT_MS,
      fetch,
      onWarning: warnings && ((w) => warnings.push(w)),
    });
  /** Asserts that the gateway created `name` and that it is stopped, and remembers it. */
  const assertStopped = async (site: string, name: string | null) => {
    assert.ok(name, "a cluster was found");
    sites.clusters.set(name, site);
    const status: ClusterStatus = (await direct[site].getCluster(name)).status;
    assert.ok(status === "STOPPED" || status === "STOPPING", `${name} is ${status}`);
  };

  await t.step("answer cut after the request arrived (Gateway): stopped, named", async () => {
    const before = await active("lumi");
    const gateway = viaProxy("lumi", toxicOnCreate(sites.api("lumi"), ANSWER_CUT));
    const { ms, error } = await timed(() => gateway.newCluster(SMALL_CLUSTER));
    assert.ok(error instanceof CreateAnswerLost, `got ${error}`);
    assert.ok(error.cause instanceof GatewayUnavailable, String(error.cause));
    assert.equal(error.kind, "unavailable");
    assert.ok(ms < BOUND_MS, `failed after ${ms} ms`);
    await assertStopped("lumi", error.stopped);
    assert.match(error.message, new RegExp(`cluster "${error.stopped}", which has been stopped`));
    assert.ok(!before.has(error.stopped!), "the cluster is new");
    assert.deepEqual(await active("lumi"), before, "no new active cluster");
  });

  await t.step(
    "answer held past the timeout (MultiCluster): stopped, no cluster held",
    async () => {
      const journal = await Deno.makeTempDir({ prefix: "lost-create-journal-" });
      const before = await active("central");
      const mc = await MultiCluster.connect({
        auth,
        sites: sites.registry,
        only: ["central"],
        timeoutMs: GATEWAY_TIMEOUT_MS,
        journal,
        fetch: toxicOnCreate(sites.api("central"), ANSWER_HELD),
      });
      try {
        const start = await timed(() => mc.newCluster(SMALL_CLUSTER));
        const [outcome] = start.value ?? [];
        assert.ok(outcome && !outcome.ok, `the start succeeded: ${start.error}`);
        const error = outcome.error;
        assert.ok(error instanceof CreateAnswerLost, String(error));
        assert.match(error.message, new RegExp(`no answer within ${GATEWAY_TIMEOUT_MS} ms`));
        assert.ok(start.ms >= GATEWAY_TIMEOUT_MS && start.ms < BOUND_MS, `after ${start.ms} ms`);
        await assertStopped("central", error.stopped);
        assert.deepEqual(await active("central"), before, "no new active cluster");
        assert.equal(mc.status()[0].cluster, undefined, "no cluster held");
        assert.deepEqual(await mc.shutdown(), [], "nothing left to stop");
        assert.deepEqual(await new ClusterJournal(journal).entries(), [], "nothing in the journal");
      } finally {
        await mc.shutdown();
        await Deno.remove(journal, { recursive: true });
      }
    },
  );

  await t.step("an unreadable answer: stopped, named", async () => {
    const gateway = viaProxy(
      "central",
      faultOnCreate(async (send) => {
        const answer = await send();
        await answer.body?.cancel();
        return new Response('{"name": ', {
          status: answer.status,
          headers: { "content-type": "application/json" },
        });
      }),
    );
    const { ms, error } = await timed(() => gateway.newCluster(SMALL_CLUSTER));
    assert.ok(error instanceof CreateAnswerLost, `got ${error}`);
    assert.ok(error.cause instanceof UnexpectedResponse && error.cause.status === 201);
    assert.ok(ms < BOUND_MS, `failed after ${ms} ms`);
    await assertStopped("central", error.stopped);
  });

  await t.step(
    "the request never arrived (cut upstream): nothing new, nothing stopped",
    async () => {
      const before = await active("lumi");
      const gateway = viaProxy("lumi", toxicOnCreate(sites.api("lumi"), REQUEST_CUT));
      const { ms, error } = await timed(() => gateway.newCluster(SMALL_CLUSTER));
      assert.ok(error instanceof CreateAnswerLost, `got ${error}`);
      assert.ok(error.checked && error.stopped === null && error.unstopped === null, error.message);
      assert.deepEqual(error.possibleOrphans, []);
      assert.match(error.message, /the gateway created no cluster/);
      assert.ok(ms < BOUND_MS, `failed after ${ms} ms`);
      assert.deepEqual(await active("lumi"), before, "the gateway created nothing");
    },
  );

  await t.step("a refused connection: no lost answer, no second list", async () => {
    const requests: string[] = [];
    const proxy = sites.api("lumi");
    const refusing = faultOnCreate(async (send) => {
      await proxy.setEnabled(false);
      try {
        return await send();
      } finally {
        await proxy.setEnabled(true);
      }
    });
    const gateway = viaProxy("lumi", (input, init) => {
      requests.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
      return refusing(input, init);
    });
    const { error } = await timed(() => gateway.newCluster(SMALL_CLUSTER));
    assert.ok(error instanceof GatewayUnavailable, `got ${error}`);
    assert.match(error.reason, /connection refused/);
    assert.deepEqual(
      requests.filter((r) => r === "GET /api/v1/clusters/"),
      ["GET /api/v1/clusters/"],
      "only the list before the create",
    );
  });

  await t.step("another session's cluster meanwhile: none stopped, both reported", async () => {
    let other: OtherStart | undefined;
    const warnings: GatewayWarning[] = [];
    const proxy = sites.api("lumi");
    const gateway = viaProxy(
      "lumi",
      faultOnCreate(async (send) => {
        // Another session of the same account creates a cluster just before this request.
        other = await startOther(direct.lumi, "lumi", sites.clusters);
        const toxic = await proxy.addToxic(ANSWER_CUT);
        try {
          return await send();
        } finally {
          await proxy.removeToxic(toxic);
        }
      }),
      warnings,
    );
    const before = await active("lumi");
    const { error } = await timed(() => gateway.newCluster(SMALL_CLUSTER));
    assert.ok(error instanceof CreateAnswerLost, `got ${error}`);
    assert.equal(error.stopped, null);
    const fresh = [...await active("lumi")].filter((n) => !before.has(n));
    for (const name of fresh) sites.clusters.set(name, "lumi");
    assert.equal(fresh.length, 2, "ours and the other session's, both still active");
    assert.ok(other && fresh.includes(other.name));
    assert.deepEqual([...error.possibleOrphans].sort(), fresh.sort());
    const warning = warnings.find((w) => w instanceof PossibleOrphans);
    assert.ok(warning instanceof PossibleOrphans, "reported through onWarning");
    assert.deepEqual([...warning.clusters].sort(), fresh.sort());
    assert.match(warning.message, /dedl-dask stop <site> <name>/);
    await (await other.started)?.shutdown();
    for (const name of fresh) await direct.lumi.stopCluster(name);
  });

  await t.step("a cluster a live process's journal names is not taken for ours", async () => {
    const journalDir = await Deno.makeTempDir({ prefix: "lost-create-journal-" });
    const journal = new ClusterJournal(journalDir);
    const proxy = sites.api("central");
    let other: OtherStart | undefined;
    const mc = await MultiCluster.connect({
      auth,
      sites: sites.registry,
      only: ["central"],
      timeoutMs: GATEWAY_TIMEOUT_MS,
      journal: journalDir,
      fetch: faultOnCreate(async (send) => {
        // A program of this machine (this process, alive) starts one and records it.
        other = await startOther(direct.central, "central", sites.clusters);
        await journal.record({
          site: "central",
          gateway: mc.gateway("central").address,
          name: other.name,
          account: auth.identity,
        });
        const toxic = await proxy.addToxic(ANSWER_CUT);
        try {
          return await send();
        } finally {
          await proxy.removeToxic(toxic);
        }
      }),
    });
    try {
      const [outcome] = await mc.newCluster(SMALL_CLUSTER);
      assert.ok(!outcome.ok && outcome.error instanceof CreateAnswerLost, JSON.stringify(outcome));
      assert.ok(other, "the other program started one");
      assert.notEqual(outcome.error.stopped, other.name);
      await assertStopped("central", outcome.error.stopped);
      const status = (await direct.central.getCluster(other.name)).status;
      assert.ok(status === "PENDING" || status === "RUNNING", `the other one is ${status}`);
    } finally {
      await mc.shutdown();
      if (other) {
        await direct.central.stopCluster(other.name);
        await other.started; // its start ends now: RUNNING, or stopped meanwhile
      }
      await Deno.remove(journalDir, { recursive: true });
    }
  });

  await t.step(
    "a found cluster that cannot be stopped: reported, stopped by shutdown()",
    async () => {
      const proxy = sites.api("lumi");
      const warnings: MultiClusterWarning[] = [];
      const cutCreate = toxicOnCreate(proxy, ANSWER_CUT);
      let holdStops = false;
      const mc = await MultiCluster.connect({
        auth,
        sites: sites.registry,
        only: ["lumi"],
        timeoutMs: GATEWAY_TIMEOUT_MS,
        journal: false,
        onWarning: (_, w) => warnings.push(w),
        fetch: async (input, init) => {
          if (isCreate(input, init)) {
            holdStops = true; // the stop that follows the lost answer does not arrive either
            return await cutCreate(input, init);
          }
          if (init?.method !== "DELETE" || !holdStops) return await fetch(input, init);
          const toxic = await proxy.addToxic(REQUEST_HELD);
          try {
            return await fetch(input, init);
          } finally {
            await proxy.removeToxic(toxic);
          }
        },
      });
      try {
        const [outcome] = await mc.newCluster(SMALL_CLUSTER);
        holdStops = false;
        assert.ok(
          !outcome.ok && outcome.error instanceof CreateAnswerLost,
          JSON.stringify(outcome),
        );
        const name = outcome.error.unstopped;
        assert.ok(name, outcome.error.message);
        sites.clusters.set(name, "lumi");
        assert.match(outcome.error.message, /could not be stopped/);
        const left = (await direct.lumi.getCluster(name)).status;
        assert.ok(left === "PENDING" || left === "RUNNING", `${name} is ${left}`);
        const warning = warnings.find((w) => w instanceof PossibleOrphans);
        assert.ok(warning instanceof PossibleOrphans && warning.ours, "reported");
        assert.deepEqual(warning.clusters, [name]);
        // Kept by the MultiCluster: shutdown() stops it now that the gateway answers.
        const stopped = await mc.shutdown();
        assert.deepEqual(stopped.map((o) => o.ok && o.value), ["STOPPED"]);
        await assertStopped("lumi", name);
      } finally {
        holdStops = false;
        await mc.shutdown();
      }
    },
  );

  await sites.assertNoOrphans(auth);
});
