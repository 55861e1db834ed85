/**
 * The gateway client against the replica's real gateways and Keycloak, and against short-lived
 * gateways of its own for failures (stopped process, failing and hanging clusters).
 */
import assert from "node:assert/strict";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import {
  ClusterFailed,
  ClusterNotFound,
  ClusterStartTimeout,
  GatewayAuthRefused,
  GatewayUnavailable,
  InvalidOptions,
} from "./errors.ts";
import { Gateway } from "./gateway.ts";
import type { ClusterProgress } from "./progress.ts";
import { freePort, silentServer, startGatewayServer } from "./testing/gateway_server.ts";
import { PasswordTokens } from "./testing/password_tokens.ts";
import { replicaLogin } from "./testing/replica_login.ts";

const ep = await readEndpoints();
const central = ep.sites.central;

// Used first here and again by the last test of this file, when their first tokens have expired:
// a naive source that hands out its token until the gateway refuses it, and a real login.
const expiring = await PasswordTokens.forReplicaUser(0);
const expiringGateway = new Gateway({ address: central.address, auth: expiring });
await expiringGateway.listClusters();
const login = await replicaLogin(0);
const loginBearers: string[] = [];
const loginGateway = new Gateway({
  address: central.address,
  auth: login,
  fetch: (input, init) => {
    loginBearers.push(new Headers(init?.headers).get("Authorization") ?? "");
    return fetch(input, init);
  },
});
await loginGateway.listClusters();

/** A token source that must not be asked: for calls that need no token. */
const noTokens = {
  identity: "nobody",
  accessToken(): Promise<string> {
    throw new Error("a token was requested");
  },
};

/** `fetch` that counts requests by "METHOD path". */
function countingFetch(): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: (input, init) => {
      calls.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    },
  };
}

Deno.test("gateway - version and health need no token", async () => {
  for (const site of Object.values(ep.sites)) {
    const gateway = new Gateway({ address: site.address, auth: noTokens });
    assert.equal(await gateway.version(), "2023.1.1", "the replica runs DEDL's dask-gateway");
    assert.equal(await gateway.health(), "pass");
  }
});

Deno.test("gateway - options outside the spec are refused without a cluster request", async () => {
  await using auth = await replicaLogin();
  const counter = countingFetch();
  const gateway = new Gateway({
    address: central.address,
    auth,
    fetch: counter.fetch,
  });
  await gateway.clusterOptions();
  counter.calls.length = 0;
  const refused = async (options: Record<string, number>, field: string, allowed: RegExp) => {
    await assert.rejects(gateway.newCluster(options), (e) => {
      assert.ok(e instanceof InvalidOptions, String(e));
      assert.equal(e.field, field);
      assert.equal(e.value, options[field]);
      assert.match(e.allowed ?? "", allowed);
      return true;
    });
  };
  await refused({ worker_cores: 11 }, "worker_cores", /^an integer from 1 to 10$/);
  await refused({ worker_cores: 2.5 }, "worker_cores", /^an integer from 1 to 10$/);
  await refused({ worker_memory: 64 }, "worker_memory", /^a number from 1 to 32$/);
  await refused({ workers: 2 }, "workers", /no such option/);
  assert.deepEqual(counter.calls, [], "no request was sent");
});

Deno.test("gateway - with the client check bypassed, the gateway's 422 is still InvalidOptions", async () => {
  await using auth = await replicaLogin();
  const gateway = new Gateway({ address: central.address, auth });
  const before = (await gateway.listClusters()).length;
  await assert.rejects(gateway.newCluster({ worker_cores: 11 }, { validate: false }), (e) => {
    assert.ok(e instanceof InvalidOptions, String(e));
    assert.match(e.serverMessage ?? "", /worker_cores must be <= 10/);
    assert.equal(e.field, "worker_cores");
    assert.equal(e.value, 11);
    assert.equal(e.allowed, "an integer from 1 to 10");
    return true;
  });
  await assert.rejects(gateway.newCluster({ worker_cores: 2.5 }, { validate: false }), (e) => {
    assert.ok(e instanceof InvalidOptions);
    assert.match(e.serverMessage ?? "", /worker_cores must be an integer, got 2\.5/);
    return true;
  });
  assert.equal((await gateway.listClusters()).length, before, "no cluster was started");
});

Deno.test("gateway - an unknown cluster name is ClusterNotFound; stopping it is harmless", async () => {
  await using auth = await replicaLogin();
  const gateway = new Gateway({ address: central.address, auth });
  const name = "0123456789abcdef0123456789abcdef";
  const notFound = (e: unknown) => {
    assert.ok(e instanceof ClusterNotFound, String(e));
    assert.equal(e.clusterName, name);
    return true;
  };
  await assert.rejects(gateway.getCluster(name), notFound);
  await assert.rejects(gateway.getCluster(name, { wait: true }), notFound);
  await assert.rejects(gateway.connect(name), notFound);
  await assert.rejects(gateway.scaleCluster(name, 1), notFound);
  await assert.rejects(gateway.adaptCluster(name, { minimum: 1, maximum: 2 }), notFound);
  assert.equal(await gateway.stopCluster(name), "STOPPED");
});

Deno.test("gateway - a token refused twice is GatewayAuthRefused after exactly one forced refresh", async () => {
  let plain = 0;
  let forced = 0;
  const badTokens = {
    identity: "mallory",
    accessToken(options?: { forceRefresh?: boolean }) {
      if (options?.forceRefresh) forced++;
      else plain++;
      return Promise.resolve("not-a-jwt");
    },
  };
  const gateway = new Gateway({ address: central.address, auth: badTokens });
  await assert.rejects(gateway.listClusters(), (e) => {
    assert.ok(e instanceof GatewayAuthRefused, String(e));
    assert.equal(e.address, central.address);
    assert.equal(e.serverMessage, "Authentication required");
    return true;
  });
  assert.equal(forced, 1);
  assert.equal(plain, 1);
});

Deno.test("gateway - 5xx from a front proxy is retried on reads, never on cluster creation", async () => {
  let failNext = 0;
  let failCreates = 0;
  const forwarded: string[] = [];
  const front = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (failNext > 0 || (failCreates > 0 && req.method === "POST")) {
      if (failNext > 0) failNext--;
      else failCreates--;
      return new Response("upstream connect error", { status: 503 });
    }
    forwarded.push(`${req.method} ${url.pathname}`);
    const res = await fetch(central.address + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body,
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  });
  await using auth = await replicaLogin();
  try {
    const gateway = new Gateway({
      address: `http://127.0.0.1:${front.addr.port}`,
      auth,
    });
    failNext = 2;
    assert.ok(Array.isArray(await gateway.listClusters()));
    assert.deepEqual(forwarded, ["GET /api/v1/clusters/"], "two 503s, then one forwarded request");
    await gateway.clusterOptions();
    forwarded.length = 0;
    failCreates = 1;
    await assert.rejects(gateway.newCluster({ worker_cores: 1 }), (e) => {
      // A 503 is the front proxy's own answer: the gateway got nothing, nothing is looked for.
      assert.ok(e instanceof GatewayUnavailable, String(e));
      assert.match(e.reason, /HTTP 503/);
      return true;
    });
    assert.equal(failCreates, 0);
    // Only the list taken before each create (see lost_create.ts) reached the gateway.
    assert.deepEqual(forwarded, ["GET /api/v1/clusters/"], "the cluster request was not repeated");
  } finally {
    await front.shutdown();
  }
});

Deno.test("gateway - nothing listening, or a server that never answers, is GatewayUnavailable within the timeout", async () => {
  await using auth = await replicaLogin();
  const refused = new Gateway({
    address: `http://127.0.0.1:${freePort()}`,
    auth,
    timeoutMs: 3_000,
  });
  await assert.rejects(refused.listClusters(), (e) => {
    assert.ok(e instanceof GatewayUnavailable, String(e));
    assert.equal(e.address, refused.address);
    assert.equal(e.reason, "connection refused");
    return true;
  });
  using silent = silentServer();
  const timeoutMs = 1_500;
  const hanging = new Gateway({ address: silent.address, auth: noTokens, timeoutMs });
  const started = Date.now();
  await assert.rejects(hanging.health(), (e) => {
    assert.ok(e instanceof GatewayUnavailable, String(e));
    assert.equal(e.reason, `no answer within ${timeoutMs} ms`);
    return true;
  });
  // A liveness bound (the call ends), with generous slack for a loaded machine.
  assert.ok(Date.now() - started < timeoutMs + 5_000);
});

Deno.test("gateway - own gateway: failing and hanging clusters, then the process stopped", async (t) => {
  const server = await startGatewayServer({
    // The image option picks a broken scheduler command: "fail" does not exist (as after
    // dask-gateway#944), "hang" never reports back.
    extraConfig: `
import sys
def _handler(options, user):
    out = {"worker_cores": options.worker_cores,
           "worker_memory": int(options.worker_memory * 2**30)}
    if options.image == "fail":
        out["scheduler_cmd"] = ["/nonexistent/dask-scheduler"]
    elif options.image == "hang":
        out["scheduler_cmd"] = [sys.executable, "-c", "import time; time.sleep(600)"]
    return out
c.Backend.cluster_options.handler = _handler
`,
  });
  await using auth = await replicaLogin();
  try {
    const gateway = new Gateway({
      address: server.address,
      proxyAddress: server.proxyAddress,
      auth,
      timeoutMs: 5_000,
    });
    await t.step("a cluster that fails to start is ClusterFailed", async () => {
      const events: ClusterProgress[] = [];
      await assert.rejects(
        gateway.newCluster({ image: "fail" }, { onProgress: (e) => events.push(e) }),
        (e) => {
          assert.ok(e instanceof ClusterFailed, String(e));
          assert.equal(e.status, "FAILED");
          assert.match(e.message, /see the gateway's logs/);
          return true;
        },
      );
      assert.deepEqual(events.map((e) => e.kind === "status" && e.status), ["PENDING", "FAILED"]);
    });
    await t.step("a cluster still PENDING at the deadline is stopped and reported", async () => {
      let name = "";
      await assert.rejects(
        gateway.newCluster({ image: "hang" }, { startTimeoutMs: 3_000 }),
        (e) => {
          assert.ok(e instanceof ClusterStartTimeout, String(e));
          assert.equal(e.lastStatus, "PENDING");
          assert.equal(e.stopped, true);
          name = e.clusterName;
          return true;
        },
      );
      assert.deepEqual(await gateway.listClusters(), [], "no active cluster left");
      assert.ok(["STOPPING", "STOPPED"].includes((await gateway.getCluster(name)).status));
    });
    await t.step("a stopped gateway process is GatewayUnavailable", async () => {
      assert.equal(await gateway.health(), "pass");
      await server.stop();
      await assert.rejects(gateway.listClusters(), (e) => {
        assert.ok(e instanceof GatewayUnavailable, String(e));
        assert.equal(e.address, server.address);
        assert.equal(e.reason, "connection refused");
        return true;
      });
    });
  } finally {
    await server.stop();
  }
});

Deno.test("gateway - an access token expiring between calls is refreshed without the caller noticing", async () => {
  const token = await expiring.accessToken();
  const exp = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).exp;
  const wait = exp * 1000 + 1_500 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  try {
    // The naive source still hands out the expired token: the gateway's 401 makes the client
    // force one refresh and repeat the call.
    assert.equal(expiring.forcedRefreshes, 0);
    assert.ok(Array.isArray(await expiringGateway.listClusters()));
    assert.equal(expiring.forcedRefreshes, 1, "the gateway's 401 led to exactly one refresh");
    assert.notEqual(await expiring.accessToken(), token);
    // OidcAuth refreshes before expiry by itself: one request, with a new token.
    assert.ok(Array.isArray(await loginGateway.listClusters()));
    assert.equal(loginBearers.length, 2);
    assert.notEqual(loginBearers[1], loginBearers[0]);
  } finally {
    await login.logout();
  }
});
