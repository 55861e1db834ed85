import assert from "node:assert/strict";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { clusterSchedulerAddress, resolveGatewayEndpoints } from "./address.ts";
import { InvalidGatewayAddress } from "./errors.ts";

Deno.test("gateway address - bridges.json central: http API, tcp:// proxy on port 80", () => {
  const e = resolveGatewayEndpoints(
    "http://dask.central.data.destination-earth.eu",
    "tcp://dask.central.data.destination-earth.eu:80",
  );
  assert.equal(e.apiUrl, "http://dask.central.data.destination-earth.eu");
  assert.equal(e.origin, "http://dask.central.data.destination-earth.eu");
  assert.equal(e.proxyAddress, "gateway://dask.central.data.destination-earth.eu:80");
  assert.equal(
    clusterSchedulerAddress(e, "dask-gateway.0fdc4eb9"),
    "gateway://dask.central.data.destination-earth.eu:80/dask-gateway.0fdc4eb9",
  );
});

Deno.test("gateway address - bridges.json lumi: https API, proxy stays on port 80", () => {
  const e = resolveGatewayEndpoints(
    "https://dask.lumi.data.destination-earth.eu",
    "tcp://dask.lumi.data.destination-earth.eu:80",
  );
  assert.equal(e.apiUrl, "https://dask.lumi.data.destination-earth.eu");
  assert.equal(e.proxyPort, 80);
  assert.equal(e.proxyAddress, "gateway://dask.lumi.data.destination-earth.eu:80");
});

Deno.test("gateway address - missing proxy address means the API's host and port", () => {
  assert.equal(
    resolveGatewayEndpoints("https://gw.example.org").proxyAddress,
    "gateway://gw.example.org:443",
  );
  assert.equal(
    resolveGatewayEndpoints("http://gw.example.org").proxyAddress,
    "gateway://gw.example.org:80",
  );
  assert.equal(
    resolveGatewayEndpoints("http://127.0.0.1:8000/").proxyAddress,
    "gateway://127.0.0.1:8000",
  );
});

Deno.test("gateway address - path prefix kept, trailing slashes dropped", () => {
  const e = resolveGatewayEndpoints("https://hub.example.org/services/dask-gateway//");
  assert.equal(e.apiUrl, "https://hub.example.org/services/dask-gateway");
  assert.equal(e.origin, "https://hub.example.org");
});

Deno.test("gateway address - proxy forms tcp, tls, gateway, host:port and port are equivalent", () => {
  const api = "https://gw.example.org";
  for (
    const proxy of [
      "tcp://px.example.org:8786",
      "tls://px.example.org:8786",
      "gateway://px.example.org:8786",
      "px.example.org:8786",
    ]
  ) {
    assert.equal(
      resolveGatewayEndpoints(api, proxy).proxyAddress,
      "gateway://px.example.org:8786",
      proxy,
    );
  }
  assert.equal(resolveGatewayEndpoints(api, 8786).proxyAddress, "gateway://gw.example.org:8786");
  assert.equal(
    resolveGatewayEndpoints(api, "https://px.example.org").proxyAddress,
    "gateway://px.example.org:443",
  );
});

Deno.test("gateway address - IPv6 hosts", () => {
  const e = resolveGatewayEndpoints("http://[::1]:8000");
  assert.equal(e.proxyHost, "::1");
  assert.equal(e.proxyAddress, "gateway://[::1]:8000");
  assert.equal(clusterSchedulerAddress(e, "abc"), "gateway://[::1]:8000/abc");
  assert.equal(
    resolveGatewayEndpoints("http://[::1]:8000", "tcp://[::2]:80").proxyAddress,
    "gateway://[::2]:80",
  );
});

Deno.test("gateway address - unusable addresses are refused with the reason", () => {
  const refused = (address: string, proxy: string | number | undefined, why: RegExp) =>
    assert.throws(() => resolveGatewayEndpoints(address, proxy), (e) => {
      assert.ok(e instanceof InvalidGatewayAddress);
      assert.match(e.message, why);
      return true;
    });
  refused("tcp://dask.central.data.destination-earth.eu:80", undefined, /pass it as proxyAddress/);
  refused("dask.central.data.destination-earth.eu", undefined, /not a URL|http/);
  refused("http://user:pw@gw.example.org", undefined, /credentials/);
  refused("http://gw.example.org/?x=1", undefined, /query/);
  refused("https://gw.example.org", "tcp://px.example.org", /needs a port/);
  refused("https://gw.example.org", "ftp://px.example.org:21", /unknown proxy scheme/);
  refused(
    "https://gw.example.org",
    "gateway://px.example.org:80/my-cluster",
    /just scheme:\/\/host:port/,
  );
  refused("https://gw.example.org", 70000, /not in 1-65535/);
});

Deno.test("gateway address - the replica's sites resolve to their API ports", async () => {
  const ep = await readEndpoints();
  for (const [name, site] of Object.entries(ep.sites)) {
    const e = resolveGatewayEndpoints(site.address, site.proxy_address);
    const port = new URL(site.address).port;
    assert.equal(e.proxyAddress, `gateway://127.0.0.1:${port}`, name);
    const res = await fetch(`${e.apiUrl}/api/health`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, name);
    await res.body?.cancel();
  }
});
