/**
 * Unit tests of the lost-create check: which failures may mean the gateway acted (local sockets
 * that cut, hold or refuse a request), and what the check concludes from two cluster lists (a
 * stand-in gateway of lists). The check against the real gateway behind Toxiproxy is
 * `tests/faults/lost_create_answer_test.ts`.
 */
import assert from "node:assert/strict";
import { resolveGatewayEndpoints } from "./address.ts";
import { answerMayBeLost, ApiClient } from "./api_client.ts";
import { CleartextTokenGuard } from "./cleartext_tokens.ts";
import { ClusterReport, type ClusterStatus } from "./cluster_report.ts";
import {
  CreateAnswerLost,
  GatewayUnavailable,
  InvalidOptions,
  UnexpectedResponse,
} from "./errors.ts";
import { type CheckedGateway, CreateWatch, type PossibleOrphans } from "./lost_create.ts";

const tokens = { identity: "alice", accessToken: () => Promise.resolve("token") };

function apiClient(address: string, timeoutMs = 2_000): ApiClient {
  return new ApiClient(resolveGatewayEndpoints(address), {
    auth: tokens,
    cleartext: new CleartextTokenGuard(new URL(address), false, undefined),
    timeoutMs,
    fetch: globalThis.fetch.bind(globalThis),
  });
}

const create = {
  method: "POST",
  path: "/api/v1/clusters/",
  body: {},
  authenticated: true,
} as const;

/** A raw TCP listener that reads a request and then does `then` with the connection. */
function rawServer(then: (conn: Deno.Conn) => void): Deno.Listener & { url: string } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) {
      (async () => {
        await conn.read(new Uint8Array(64 * 1024)).catch(() => null);
        then(conn);
      })();
    }
  })().catch(() => {});
  return Object.assign(listener, { url: `http://127.0.0.1:${listener.addr.port}` });
}

async function failure(send: Promise<unknown>): Promise<unknown> {
  try {
    await send;
  } catch (e) {
    return e;
  }
  assert.fail("the call succeeded");
}

Deno.test("lost create - a connection cut after the request was sent may have created", async () => {
  using server = rawServer((conn) => conn.close());
  const e = await failure(apiClient(server.url).send({ ...create, idempotent: false }));
  assert.ok(e instanceof GatewayUnavailable, String(e));
  assert.ok(answerMayBeLost(e));
  // The same cut for a call that may be repeated is retried, never marked.
  const again = await failure(apiClient(server.url).send({ ...create, idempotent: true }));
  assert.ok(again instanceof GatewayUnavailable && !answerMayBeLost(again), String(again));
});

Deno.test("lost create - a create cut on a reused connection is sent once, not again", async () => {
  // Deno's fetch repeats a request whose reused keep-alive connection closes before the answer.
  const requests: string[] = [];
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      (async () => {
        const buffer = new Uint8Array(64 * 1024);
        for (;;) {
          const n = await conn.read(buffer).catch(() => null);
          if (!n) break;
          const line = new TextDecoder().decode(buffer.subarray(0, n)).split("\r\n")[0];
          requests.push(line.split(" ")[0]);
          if (!line.startsWith("GET")) break; // the create: read, then cut
          const body = "{}";
          await conn.write(new TextEncoder().encode(
            `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
          ));
        }
        conn.close();
      })();
    }
  })().catch(() => {});
  try {
    const api = apiClient(`http://127.0.0.1:${listener.addr.port}`);
    await api.send({
      method: "GET",
      path: "/api/v1/clusters/",
      authenticated: true,
      idempotent: true,
    });
    const e = await failure(api.send({ ...create, idempotent: false }));
    assert.ok(answerMayBeLost(e), String(e));
    assert.deepEqual(requests, ["GET", "POST"]);
  } finally {
    listener.close();
    await serving;
  }
});

Deno.test("lost create - no answer in time may have created", async () => {
  const held: Deno.Conn[] = [];
  using server = rawServer((conn) => void held.push(conn));
  const e = await failure(apiClient(server.url, 500).send({ ...create, idempotent: false }));
  assert.ok(e instanceof GatewayUnavailable, String(e));
  assert.match(e.reason, /no answer within 500 ms/);
  assert.ok(answerMayBeLost(e));
  for (const conn of held) conn.close();
});

Deno.test("lost create - a refused connection or the gateway's own error answer did not create", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  const refused = await failure(
    apiClient(`http://127.0.0.1:${port}`).send({ ...create, idempotent: false }),
  );
  assert.ok(refused instanceof GatewayUnavailable, String(refused));
  assert.ok(!answerMayBeLost(refused), refused.message);

  const statuses = [500, 503, 502];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("{}", { status: statuses[0], headers: { "content-type": "text/plain" } }),
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}`;
    const internal = await failure(apiClient(url).send({ ...create, idempotent: false }));
    assert.ok(internal instanceof UnexpectedResponse && !answerMayBeLost(internal));
    statuses.shift();
    const unavailable = await failure(apiClient(url).send({ ...create, idempotent: false }));
    assert.ok(unavailable instanceof GatewayUnavailable && !answerMayBeLost(unavailable));
    // A front proxy's 502: it may have forwarded the request.
    statuses.shift();
    const badGateway = await failure(apiClient(url).send({ ...create, idempotent: false }));
    assert.ok(badGateway instanceof GatewayUnavailable && answerMayBeLost(badGateway));
  } finally {
    await server.shutdown();
  }
});

const endpoints = resolveGatewayEndpoints("http://127.0.0.1:9");

function report(name: string, options: Record<string, unknown> = {}): ClusterReport {
  return ClusterReport.fromJson({ name, status: "PENDING", options }, endpoints, "test");
}

/** A stand-in for the gateway's list and stop calls: lists `lists` in turn. */
class ListingGateway implements CheckedGateway {
  readonly address = "http://127.0.0.1:9";
  readonly stopped: string[] = [];
  failStop = false;
  constructor(private readonly lists: (ClusterReport[] | Error)[]) {}

  listClusters(): Promise<ClusterReport[]> {
    const next = this.lists.shift();
    if (!next) throw new Error("listed once too often");
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }

  stopCluster(name: string): Promise<ClusterStatus> {
    if (this.failStop) return Promise.reject(new GatewayUnavailable(this.address, "cut"));
    this.stopped.push(name);
    return Promise.resolve("STOPPED");
  }
}

/** A failure marked as an answer lost: a 201 whose body could not be read. */
const garbled = new UnexpectedResponse("http://127.0.0.1:9/api/v1/clusters/", 201, "invalid JSON");

Deno.test("lost create - one new cluster with the options asked for is stopped", async () => {
  const gateway = new ListingGateway([[report("a")], [report("a"), report("b", { cores: 2 })]]);
  using watch = await CreateWatch.start(gateway, { options: { cores: 2 } });
  const e = await watch.failed(garbled);
  assert.ok(e instanceof CreateAnswerLost, String(e));
  assert.equal(e.stopped, "b");
  assert.equal(e.cause, garbled);
  assert.equal(e.code, "ERR_CREATE_ANSWER_LOST");
  assert.match(e.message, /created cluster "b", which has been stopped/);
  assert.deepEqual(gateway.stopped, ["b"]);
});

Deno.test("lost create - nothing new after three lists: nothing is stopped, the error says so", async () => {
  const gateway = new ListingGateway([[report("a")], [report("a")], [report("a")], [report("a")]]);
  using watch = await CreateWatch.start(gateway, { options: {} });
  const e = await watch.failed(garbled);
  assert.ok(e instanceof CreateAnswerLost && e.checked && e.stopped === null, String(e));
  assert.match(e.message, /created no cluster/);
  assert.deepEqual(gateway.stopped, []);
});

Deno.test("lost create - a cluster listed only a moment later (a Kubernetes gateway's cache) is found", async () => {
  const gateway = new ListingGateway([[], [], [report("b")]]);
  using watch = await CreateWatch.start(gateway, { options: {} });
  const e = await watch.failed(garbled);
  assert.ok(e instanceof CreateAnswerLost && e.stopped === "b", String(e));
});

Deno.test("lost create - several new clusters, or other options: none is stopped, all reported", async () => {
  for (
    const [after, options] of [
      [[report("b"), report("c")], {}],
      [[report("b", { cores: 1 })], { cores: 2 }],
    ] as const
  ) {
    const warnings: PossibleOrphans[] = [];
    const gateway = new ListingGateway([[], [...after]]);
    using watch = await CreateWatch.start(gateway, {
      options,
      onWarning: (w) => warnings.push(w),
    });
    const e = await watch.failed(garbled);
    const names = after.map((c) => c.name);
    assert.ok(e instanceof CreateAnswerLost, String(e));
    assert.deepEqual(e.possibleOrphans, names);
    assert.equal(e.stopped, null);
    assert.deepEqual(gateway.stopped, []);
    assert.equal(warnings.length, 1);
    assert.deepEqual(warnings[0].clusters, names);
    assert.equal(warnings[0].ours, false);
    assert.match(warnings[0].message, /dedl-dask stop <site> <name>/);
  }
});

Deno.test("lost create - clusters tracked elsewhere or named to another create are not ours", async () => {
  const gateway = new ListingGateway([
    [],
    [],
    [report("journal"), report("sibling"), report("ours")],
  ]);
  using watch = await CreateWatch.start(gateway, {
    options: {},
    isTracked: (name) => name === "journal",
  });
  {
    // Another create at the same gateway, answered while ours is under way.
    using sibling = await CreateWatch.start(gateway, { options: {} });
    sibling.created("sibling");
  }
  const e = await watch.failed(garbled);
  assert.ok(e instanceof CreateAnswerLost && e.stopped === "ours", String(e));
});

Deno.test("lost create - a stop that fails is reported, with the name to stop", async () => {
  const warnings: PossibleOrphans[] = [];
  const gateway = new ListingGateway([[], [report("b")]]);
  gateway.failStop = true;
  using watch = await CreateWatch.start(gateway, {
    options: {},
    onWarning: (w) => warnings.push(w),
  });
  const e = await watch.failed(garbled);
  assert.ok(e instanceof CreateAnswerLost && e.unstopped === "b" && e.stopped === null, String(e));
  assert.match(e.message, /could not be stopped: stop it with stopCluster\("b"\)/);
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0].ours);
  assert.match(warnings[0].message, /`dedl-dask stop <site> b`/);
});

Deno.test("lost create - without a list before, or for a failure that cannot have created, the failure stays", async () => {
  const refused = new GatewayUnavailable("http://127.0.0.1:9", "connection refused");
  const unlisted = new ListingGateway([new GatewayUnavailable("http://127.0.0.1:9", "down")]);
  using blind = await CreateWatch.start(unlisted, { options: {} });
  assert.equal(await blind.failed(garbled), garbled);
  const listed = new ListingGateway([[]]);
  using watch = await CreateWatch.start(listed, { options: {} });
  assert.equal(await watch.failed(refused), refused);
  const invalid = new InvalidOptions("cores", 99, "an integer from 1 to 10");
  assert.equal(await watch.failed(invalid), invalid);
});

Deno.test("lost create - clusters that cannot be listed afterwards: unknown, said so", async () => {
  const gateway = new ListingGateway([[], new GatewayUnavailable("http://127.0.0.1:9", "down")]);
  using watch = await CreateWatch.start(gateway, { options: {} });
  const e = await watch.failed(garbled);
  assert.ok(e instanceof CreateAnswerLost && !e.checked, String(e));
  assert.match(e.message, /unknown: list your clusters/);
});
