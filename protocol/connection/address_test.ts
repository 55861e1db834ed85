import assert from "node:assert/strict";
import { InvalidAddress } from "../errors.ts";
import { formatAddress, parseAddress } from "./address.ts";

Deno.test("address - tcp, tls, gateway and bare forms", () => {
  assert.deepEqual(parseAddress("tcp://127.0.0.1:8786"), {
    scheme: "tcp",
    host: "127.0.0.1",
    port: 8786,
  });
  assert.deepEqual(parseAddress("scheduler.example:8786"), {
    scheme: "tcp",
    host: "scheduler.example",
    port: 8786,
  });
  assert.deepEqual(parseAddress("TLS://[::1]:9000"), { scheme: "tls", host: "::1", port: 9000 });
  assert.deepEqual(parseAddress("gateway://proxy.example:443/ns.abc123/"), {
    scheme: "gateway",
    host: "proxy.example",
    port: 443,
    clusterName: "ns.abc123",
  });
  assert.equal(formatAddress(parseAddress("tls://[::1]:9000")), "tls://[::1]:9000");
  assert.equal(
    formatAddress(parseAddress("gateway://h:80/c")),
    "gateway://h:80/c",
  );
});

Deno.test("address - malformed addresses name the problem", () => {
  const cases: Array<[string, RegExp]> = [
    ["http://host:80", /unsupported scheme "http"/],
    ["tcp://host", /has no port/],
    ["tcp://host:0", /invalid port "0"/],
    ["tcp://host:99999", /invalid port/],
    ["tcp://host:8x", /invalid port "8x"/],
    ["tcp://:8786", /has no host/],
    ["tcp://::1:8786", /IPv6 address without brackets/],
    ["tcp://[::1:8786", /malformed IPv6/],
    ["gateway://proxy:443", /needs exactly one cluster name/],
    ["gateway://proxy:443/a/b", /needs exactly one cluster name/],
    ["tcp://host:8786/path", /only gateway:\/\/ addresses carry a cluster name/],
  ];
  for (const [address, message] of cases) {
    assert.throws(() => parseAddress(address), (e: unknown) => {
      assert.ok(e instanceof InvalidAddress, address);
      assert.match(e.message, message);
      return true;
    });
  }
});
