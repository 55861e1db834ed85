/**
 * The HTTP layer's bounds and error mapping: oversized and malformed bodies, and a wrong path
 * prefix on the real gateway (plain-text 404, not a missing cluster).
 */
import assert from "node:assert/strict";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { ClusterNotFound, UnexpectedResponse } from "./errors.ts";
import { Gateway } from "./gateway.ts";
import { replicaLogin } from "./testing/replica_login.ts";

const ep = await readEndpoints();
const noTokens = {
  identity: "nobody",
  accessToken(): Promise<string> {
    throw new Error("a token was requested");
  },
};

/** A local HTTP server answering every request with `answer()`. */
function serveOnce(answer: () => Response): Deno.HttpServer<Deno.NetAddr> & { address: string } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, answer);
  return Object.assign(server, { address: `http://127.0.0.1:${server.addr.port}` });
}

Deno.test("gateway api - a body beyond 8 MiB is refused before it is all read", async () => {
  const chunk = new Uint8Array(1024 * 1024).fill(0x20);
  let sent = 0;
  const server = serveOnce(() =>
    new Response(
      new ReadableStream({
        pull(controller) {
          // Endless: the client must stop reading by itself.
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      }),
      { headers: { "Content-Type": "application/json" } },
    )
  );
  try {
    const gateway = new Gateway({ address: server.address, auth: noTokens });
    await assert.rejects(gateway.version(), (e) => {
      assert.ok(e instanceof UnexpectedResponse, String(e));
      assert.match(e.detail, /exceeds 8388608 bytes/);
      return true;
    });
    assert.ok(sent < 64 * 1024 * 1024);
  } finally {
    await server.shutdown();
  }
});

Deno.test("gateway api - a JSON answer that does not parse is UnexpectedResponse with its start", async () => {
  const server = serveOnce(() =>
    new Response('{"version": "2026.3', { headers: { "Content-Type": "application/json" } })
  );
  try {
    const gateway = new Gateway({ address: server.address, auth: noTokens });
    await assert.rejects(gateway.version(), (e) => {
      assert.ok(e instanceof UnexpectedResponse, String(e));
      assert.equal(e.status, 200);
      assert.match(e.detail, /invalid JSON: \{"version": "2026\.3/);
      return true;
    });
  } finally {
    await server.shutdown();
  }
});

Deno.test("gateway api - a wrong path prefix is UnexpectedResponse, not ClusterNotFound", async () => {
  await using auth = await replicaLogin();
  const wrong = new Gateway({ address: `${ep.sites.central.address}/services/dask-gateway`, auth });
  await assert.rejects(wrong.getCluster("0123456789abcdef0123456789abcdef"), (e) => {
    assert.ok(!(e instanceof ClusterNotFound));
    assert.ok(e instanceof UnexpectedResponse, String(e));
    assert.equal(e.status, 404);
    assert.match(e.detail, /404: Not Found/);
    return true;
  });
});
