/**
 * The Toxiproxy fixture against a plain TCP echo server: the proxy forwards, a latency toxic
 * delays, and a disabled proxy refuses connections.
 */
import assert from "node:assert/strict";
import { Toxiproxy } from "./toxiproxy.ts";

function echoServer(): { port: number; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) {
      conn.readable.pipeTo(conn.writable).catch(() => {});
    }
  })().catch(() => {});
  return { port: (listener.addr as Deno.NetAddr).port, close: () => listener.close() };
}

async function roundTrip(listen: string): Promise<number> {
  const [hostname, port] = listen.split(":");
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const started = performance.now();
    await conn.write(new TextEncoder().encode("ping"));
    const buf = new Uint8Array(4);
    let got = 0;
    while (got < 4) {
      const n = await conn.read(buf.subarray(got));
      if (n === null) throw new Error("closed");
      got += n;
    }
    assert.equal(new TextDecoder().decode(buf), "ping");
    return performance.now() - started;
  } finally {
    conn.close();
  }
}

Deno.test("toxiproxy - forwards, delays with a latency toxic, refuses when disabled", async () => {
  const echo = echoServer();
  try {
    await using toxiproxy = await Toxiproxy.start();
    const proxy = await toxiproxy.proxy("echo", `127.0.0.1:${echo.port}`);
    assert.ok((await roundTrip(proxy.listen)) < 100);
    const toxic = await proxy.addToxic({ type: "latency", attributes: { latency: 200 } });
    assert.ok((await roundTrip(proxy.listen)) >= 190);
    await proxy.removeToxic(toxic);
    assert.ok((await roundTrip(proxy.listen)) < 100);
    await proxy.setEnabled(false);
    await assert.rejects(roundTrip(proxy.listen));
  } finally {
    echo.close();
  }
});
