/**
 * Fault: the identity provider goes away while clusters run. The login's every request to
 * Keycloak crosses a Toxiproxy (as an HTTP proxy of the login's `fetch`, so Keycloak still sees
 * its own host and issues tokens for its own issuer). After login, Keycloak becomes unreachable:
 * until the 30 s access token expires the gateway calls go on with it, computing never needs it;
 * once it has expired, a frozen Keycloak gives `IdentityProviderUnreachable` after the login's
 * timeout, an unreachable one at once; once Keycloak is back, the token is renewed and the
 * cluster is stopped.
 */
import assert from "node:assert/strict";
import { sleep } from "../../base/mod.ts";
import { IdentityProviderUnreachable, OidcAuth } from "../../lib/auth/mod.ts";
import { MultiCluster } from "../../lib/multicluster/mod.ts";
import { py } from "../../protocol/mod.ts";
import { readEndpoints } from "../replica/endpoints.ts";
import { FaultySites, timed } from "./faulty_sites.ts";

const IDP_TIMEOUT_MS = 3_000;
const SLACK_MS = 1_500;

Deno.test("faults - Keycloak unreachable at refresh time: typed, and recovery", async (t) => {
  const ep = await readEndpoints();
  await using sites = await FaultySites.start(["lumi"]);
  const keycloak = await sites.toxiproxy.proxy("keycloak", new URL(ep.issuer).host);
  const viaToxiproxy = Deno.createHttpClient({ proxy: { url: `http://${keycloak.listen}` } });
  try {
    await using auth = await OidcAuth.password({
      issuer: ep.issuer,
      clientId: ep.client_id,
      username: ep.users[0].username,
      password: ep.users[0].password,
      timeoutMs: IDP_TIMEOUT_MS,
      fetch: (input, init) => fetch(input, { ...init, client: viaToxiproxy }),
    });
    const mc = await MultiCluster.connect({ auth, sites: sites.registry });
    try {
      await sites.startSmallClusters(mc);
      const whereAmI = py.call(py.fn("os.getenv"), "DEDL_SITE").withAttrs({ location: "lumi" });
      // A fresh token right before the outage, whatever the start took: its own lifetime (the
      // replica's realm: 30 s) counts from the request, as the login counts it.
      const renewedAt = Date.now();
      const token = await auth.accessToken({ forceRefresh: true });
      const lifetimeMs = (Number(auth.claims.exp) - Number(auth.claims.iat)) * 1000;
      const expiresAt = renewedAt + lifetimeMs;
      // The login renews early: half the lifetime before expiry (at most 30 s before).
      const renewsAt = expiresAt - Math.min(30_000, lifetimeMs / 2);
      await keycloak.setEnabled(false);
      await sleep(renewsAt - Date.now() + 500);

      await t.step("early renewal fails: the token is used while it lasts", async () => {
        assert.ok(Date.now() < expiresAt - 2_000, "too late to try");
        // Past the renewal time every call tries to renew; the same token means it failed.
        // (Compared without showing either: no token in any output.)
        assert.ok(
          (await auth.accessToken()) === token,
          "the token was renewed: Keycloak reachable",
        );
        const listed = await mc.gateway("lumi").listClusters();
        assert.ok(listed.some((c) => c.name === mc.site("lumi").cluster.name));
        assert.equal(await mc.compute(whereAmI), "lumi");
      });

      await sleep(Math.max(0, expiresAt - Date.now() + 500));

      await t.step("token expired, Keycloak frozen: typed after the login's timeout", async () => {
        const frozen = await keycloak.addToxic({
          type: "timeout",
          name: "frozen",
          attributes: { timeout: 0 },
        });
        await keycloak.setEnabled(true);
        const renewal = await timed(() => auth.accessToken());
        assert.ok(renewal.error instanceof IdentityProviderUnreachable, String(renewal.error));
        assert.match(renewal.error.message, new RegExp(`no answer within ${IDP_TIMEOUT_MS} ms`));
        assert.ok(renewal.ms < IDP_TIMEOUT_MS + SLACK_MS, `failed after ${renewal.ms} ms`);
        await keycloak.removeToxic(frozen);
        await keycloak.setEnabled(false);
      });

      await t.step("token expired, Keycloak down: gateway calls fail typed at once", async () => {
        const list = await timed(() => mc.gateway("lumi").listClusters());
        assert.ok(list.error instanceof IdentityProviderUnreachable, String(list.error));
        assert.ok(list.ms < SLACK_MS, `failed after ${list.ms} ms`);
        const [clusters] = await mc.clusters();
        assert.ok(!clusters.ok && clusters.error instanceof IdentityProviderUnreachable);
        // The scheduler connection needs no token: work goes on.
        assert.equal(await mc.compute(whereAmI), "lumi");
      });

      await t.step("Keycloak back: the token is renewed, the gateway answers", async () => {
        await keycloak.setEnabled(true);
        const listed = await mc.gateway("lumi").listClusters();
        assert.equal(listed.length >= 1, true);
        assert.ok(Date.now() > expiresAt, "a new token was needed");
        assert.ok((await auth.accessToken()) !== token, "the token was renewed");
      });
    } finally {
      const stopped = await mc.shutdown();
      for (const o of stopped) assert.ok(o.ok && o.value === "STOPPED", JSON.stringify(o));
    }
    await sites.assertNoOrphans(auth);
  } finally {
    viaToxiproxy.close();
  }
});
