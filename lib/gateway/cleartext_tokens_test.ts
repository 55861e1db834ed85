/**
 * Tokens over plain HTTP: the replica's real gateway reached through a non-loopback address of
 * this machine (a TCP relay on that address), so the token really crosses an `http://` link to
 * another host name: one warning per gateway, or a refusal before anything is sent.
 */
import assert from "node:assert/strict";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { MultiCluster, type MultiClusterWarning } from "../multicluster/mod.ts";
import { isCleartext } from "./cleartext_tokens.ts";
import type { GatewayWarning } from "./warnings.ts";
import { InsecureGateway } from "./errors.ts";
import { Gateway } from "./gateway.ts";
import { replicaLogin } from "./testing/replica_login.ts";
import { outwardAddress, tcpRelay } from "./testing/tcp_relay.ts";

const ep = await readEndpoints();

Deno.test("cleartext tokens - which addresses leave the machine unencrypted", () => {
  for (const url of ["http://dask.central.data.destination-earth.eu", "http://192.0.2.2:8000"]) {
    assert.ok(isCleartext(new URL(url)), url);
  }
  for (
    const url of [
      "https://dask.lumi.data.destination-earth.eu",
      "http://127.0.0.1:8000",
      "http://127.3.4.5",
      "http://localhost:1",
      "http://[::1]:8000",
    ]
  ) {
    assert.ok(!isCleartext(new URL(url)), url);
  }
});

const host = outwardAddress();

Deno.test({
  name: "cleartext tokens - one warning per gateway, or refused with requireHttps",
  ignore: host === undefined, // a machine with loopback only has no other address to test with
  async fn() {
    const via = tcpRelay(host!, new URL(ep.sites.central.address));
    try {
      await using auth = await replicaLogin(0);
      const warnings: GatewayWarning[] = [];
      const gateway = new Gateway({ address: via.url, auth, onWarning: (w) => warnings.push(w) });
      const direct = new Gateway({ address: ep.sites.central.address, auth });
      assert.deepEqual(await gateway.listClusters(), await direct.listClusters());
      await gateway.listClusters();
      assert.equal(warnings.length, 1, "once per gateway");
      assert.equal(warnings[0].code, "CLEARTEXT_TOKEN");
      assert.match(warnings[0].message, new RegExp(`${via.url} over plain HTTP`));
      assert.deepEqual(await direct.listClusters(), await direct.listClusters()); // no warning

      const before = via.connections();
      const strict = new Gateway({ address: via.url, auth, requireHttps: true });
      await assert.rejects(strict.listClusters(), (e) => {
        assert.ok(e instanceof InsecureGateway, String(e));
        assert.equal(e.kind, "usage");
        return true;
      });
      assert.equal(via.connections(), before, "nothing was sent");
      assert.match(await strict.version(), /^\d{4}\./, "calls without a token still work");

      // Through MultiCluster: labelled with the site, refused alike.
      const seen: [string, MultiClusterWarning][] = [];
      const sites = { central: { ...ep.sites.central, address: via.url } };
      const mc = await MultiCluster.connect({
        auth,
        sites,
        journal: false,
        onWarning: (site, w) => seen.push([site, w]),
      });
      await mc.clusters();
      assert.deepEqual(seen.map(([site, w]) => [site, w.code]), [["central", "CLEARTEXT_TOKEN"]]);
      const strictMc = await MultiCluster.connect({
        auth,
        sites,
        journal: false,
        requireHttps: true,
      });
      const [listed] = await strictMc.clusters();
      assert.ok(!listed.ok && listed.error instanceof InsecureGateway, String(listed));
    } finally {
      via.close();
    }
  },
});
