import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { pythonEnv } from "../../tests/replica/python_env.ts";
import {
  ConnectionClosed,
  ConnectionRefused,
  ConnectTimeout,
  GatewayClusterNotFound,
  InvalidAddress,
  TlsHandshakeFailed,
} from "../errors.ts";
import { makeTlsKeypair } from "../testing/tls_keypair.ts";
import { connectTransport } from "./connect.ts";
import {
  CIPHERTEXT_REUSE_VERIFIED,
  nativeTcpHandle,
  reuseCiphertextBuffer,
} from "./node_socket_transport.ts";
import type { TlsMaterial, Transport } from "./transport.ts";

const ECHO_SERVER = fileURLToPath(new URL("../testing/tls_echo_server.py", import.meta.url));

/** A Python mutual-TLS echo server that reports the SNI name it was asked for. */
async function startEchoServer(dir: string) {
  const child = new Deno.Command(await pythonEnv("current"), {
    args: [ECHO_SERVER, `${dir}/cert.pem`, `${dir}/key.pem`],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const first = await reader.read();
  reader.releaseLock();
  const port = Number(new TextDecoder().decode(first.value).trim());
  return {
    port,
    async [Symbol.asyncDispose]() {
      child.kill("SIGKILL");
      await child.stdin.close().catch(() => {});
      await child.stdout.cancel();
      await child.status;
    },
  };
}

async function readLine(t: Transport): Promise<string> {
  const buf = new Uint8Array(256);
  let text = "";
  while (!text.includes("\n")) {
    const n = await t.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return text.trim();
}

async function readExactly(t: Transport, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let have = 0;
  while (have < n) {
    const got = await t.read(out.subarray(have));
    if (got === null) throw new Error(`stream ended after ${have} of ${n} bytes`);
    have += got;
  }
  return out;
}

/** A TCP port with nothing listening. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

let material: TlsMaterial;
let other: TlsMaterial;
let dir: string;

Deno.test("transport - setup TLS material", async () => {
  dir = await Deno.makeTempDir({ prefix: "dedl-tls-" });
  await Deno.mkdir(`${dir}/other`);
  material = await makeTlsKeypair(dir, "local-cluster");
  other = await makeTlsKeypair(`${dir}/other`, "local-cluster");
});

Deno.test("transport - gateway sends SNI daskgateway-<name> and checks the bare name", async () => {
  await using server = await startEchoServer(dir);
  const t = await connectTransport(`gateway://127.0.0.1:${server.port}/ns.local-cluster`, {
    tls: material,
  });
  try {
    assert.equal(await readLine(t), "daskgateway-ns.local-cluster");
  } finally {
    t.close();
  }
  // The certificate names "local-cluster", not "someone-else": the identity check refuses it.
  await assert.rejects(
    connectTransport(`gateway://127.0.0.1:${server.port}/someone-else`, { tls: material }),
    (e: unknown) => {
      assert.ok(e instanceof TlsHandshakeFailed);
      assert.match(e.message, /someone-else/);
      return true;
    },
  );
});

Deno.test("transport - tls trusts only the given CA and skips the host name", async () => {
  await using server = await startEchoServer(dir);
  for (const tlsEngine of ["node", "deno"] as const) {
    const t = await connectTransport(`tls://127.0.0.1:${server.port}`, {
      tls: material,
      tlsEngine,
    });
    try {
      assert.equal(await readLine(t), "-", "no SNI for an IP address");
      // Several MiB both ways exercise back-pressure on reads and writes.
      const payload = new Uint8Array(6 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
      const [, echoed] = await Promise.all([
        t.write([payload.subarray(0, 100), payload.subarray(100)]),
        readExactly(t, payload.length),
      ]);
      assert.deepEqual(echoed, payload, tlsEngine);
    } finally {
      t.close();
    }
    await assert.rejects(
      connectTransport(`tls://127.0.0.1:${server.port}`, {
        tls: { ...other, ca: other.ca },
        tlsEngine,
      }),
      (e: unknown) => {
        assert.ok(e instanceof TlsHandshakeFailed, `${tlsEngine}: ${e}`);
        assert.match(e.message, /certificate|cert|unknown ca|verify/i);
        return true;
      },
    );
  }
});

Deno.test("transport - node:tls receives in place, in order, past the back-pressure mark", async () => {
  await using server = await startEchoServer(dir);
  const t = await connectTransport(`tls://127.0.0.1:${server.port}`, { tls: material });
  try {
    assert.ok(t.readFull, "the node:tls transport offers readFull");
    assert.equal(await readLine(t), "-");
    // 20 MiB echoed back: more than the receive queue holds before it pauses the socket.
    const payload = new Uint8Array(20 * 1024 * 1024).map((_, i) => (i * 13 + 5) & 0xff);
    const writing = t.write([payload]);
    // Let the echo pile up unread (the socket pauses at 8 MiB), then drain it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const head = new Uint8Array(100);
    const middle = new Uint8Array(12 * 1024 * 1024);
    // A stall (bytes stuck in the queue, a socket never resumed) fails instead of hanging.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("the transfer stalled")), 60_000);
    });
    const tail = await Promise.race([
      (async () => {
        assert.equal(await t.read(head), 100);
        assert.equal(await t.readFull!(middle), middle.length);
        const tail = await readExactly(t, payload.length - 100 - middle.length);
        await writing;
        return tail;
      })(),
      stalled,
    ]).finally(() => clearTimeout(timer));
    assert.deepEqual(head, payload.subarray(0, 100));
    assert.deepEqual(middle, payload.subarray(100, 100 + middle.length));
    assert.deepEqual(tail, payload.subarray(100 + middle.length));
  } finally {
    t.close();
  }
  await assert.rejects(t.readFull!(new Uint8Array(10)), ConnectionClosed);
});

Deno.test("transport - node:tls stops reading the socket while its queue is full", async () => {
  await using server = await startEchoServer(dir);
  const t = await connectTransport(`tls://127.0.0.1:${server.port}`, { tls: material });
  try {
    const payload = new Uint8Array(48 * 1024 * 1024).fill(7);
    const into = new Uint8Array(payload.length + 2);
    const before = Deno.memoryUsage().rss;
    const writing = t.write([payload]);
    // Unread, the echo stops at the 8 MiB mark plus socket buffers, not inside this process.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const grown = (Deno.memoryUsage().rss - before) / 2 ** 20;
    assert.ok(grown < 24, `${grown.toFixed(0)} MiB were buffered while nobody read`);
    assert.equal(await t.readFull!(into), into.length);
    await writing;
    assert.deepEqual(into.subarray(2), payload);
  } finally {
    t.close();
  }
});

Deno.test("transport - node:tls reads ciphertext into one reused buffer, up to the peer's end", async () => {
  await using server = await startEchoServer(dir);
  const tls = await import("node:tls");
  const socket = tls.connect({
    host: "127.0.0.1",
    port: server.port,
    ca: [material.ca],
    cert: material.cert,
    key: material.key,
    checkServerIdentity: () => undefined,
  });
  try {
    await new Promise((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
    // Fails when a Deno upgrade changes the internals it relies on (the memory saving is lost),
    // or when the pinned Deno is no longer one the reuse is enabled for.
    assert.match(Deno.version.deno, CIPHERTEXT_REUSE_VERIFIED, "the pinned Deno is verified");
    const tcp = nativeTcpHandle(socket);
    assert.ok(tcp, "Deno's node:tls socket has a native TCP handle that takes a user buffer");
    reuseCiphertextBuffer(tcp);
    const chunks: Uint8Array[] = [];
    const ended = new Promise((resolve, reject) => {
      socket.on("data", (chunk: Uint8Array) => chunks.push(new Uint8Array(chunk)));
      socket.once("end", resolve);
      socket.once("error", reject);
    });
    // 3 MiB echoed: many reads into the same buffer, then our half-close makes the peer end.
    const payload = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31 + 7) & 0xff);
    socket.end(payload);
    await ended;
    const received = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      received.set(c, at);
      at += c.length;
    }
    assert.equal(new TextDecoder().decode(received.subarray(0, 2)), "-\n");
    assert.deepEqual(received.subarray(2), payload);
  } finally {
    socket.destroy();
  }
});

Deno.test("transport - a proxy closing during the handshake means no such cluster", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(4096)).catch(() => null);
      conn.close();
    }
  })();
  try {
    await assert.rejects(
      connectTransport(`gateway://127.0.0.1:${port}/missing`, { tls: material }),
      (e: unknown) => {
        assert.ok(e instanceof GatewayClusterNotFound, String(e));
        assert.equal(e.clusterName, "missing");
        assert.match(e.message, /daskgateway-missing/);
        return true;
      },
    );
    await assert.rejects(
      connectTransport(`tls://127.0.0.1:${port}`, { tls: material }),
      TlsHandshakeFailed,
    );
  } finally {
    listener.close();
    await serving.catch(() => {});
  }
});

Deno.test("transport - refused, timeout and missing TLS material are typed", async () => {
  const port = closedPort();
  for (const address of [`tcp://127.0.0.1:${port}`, `tls://127.0.0.1:${port}`]) {
    await assert.rejects(connectTransport(address, { tls: material }), ConnectionRefused);
  }
  await assert.rejects(
    connectTransport(`gateway://127.0.0.1:${port}/c`, { tls: material }),
    ConnectionRefused,
  );
  await assert.rejects(connectTransport(`tls://127.0.0.1:${port}`), InvalidAddress);

  // A listener that accepts but never speaks TLS: the handshake must time out.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const conn of silent) accepted.push(conn);
  })();
  try {
    const silentPort = (silent.addr as Deno.NetAddr).port;
    for (const tlsEngine of ["node", "deno"] as const) {
      await assert.rejects(
        connectTransport(`tls://127.0.0.1:${silentPort}`, {
          tls: material,
          timeoutMs: 300,
          tlsEngine,
        }),
        (e: unknown) => {
          assert.ok(e instanceof ConnectTimeout, String(e));
          assert.match(e.message, /300 ms/);
          return true;
        },
      );
    }
  } finally {
    silent.close();
    await serving.catch(() => {});
    for (const c of accepted) c.close();
  }
});

Deno.test("transport - teardown TLS material", async () => {
  await Deno.remove(dir, { recursive: true });
});
