/**
 * Fuzzing of what the gateway client reads from the network: option specs, cluster reports and
 * Set-Cookie headers, mutated from real answers. Anything may come back except an exception
 * other than the layer's typed errors. Fixed seed; `DEDL_FUZZ_ITERATIONS` runs longer.
 */
import assert from "node:assert/strict";
import { fuzzIterations, SeededRandom } from "../../protocol/testing/seeded_random.ts";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { resolveGatewayEndpoints } from "./address.ts";
import { ClusterReport } from "./cluster_report.ts";
import { CookieJar } from "./cookie_jar.ts";
import { InvalidOptions, UnexpectedResponse } from "./errors.ts";
import { ClusterOptionsSpec } from "./options.ts";
import { replicaLogin } from "./testing/replica_login.ts";

const ep = await readEndpoints();
const endpoints = resolveGatewayEndpoints(ep.sites.central.address, ep.sites.central.proxy_address);

/** Real answers of the replica's gateway, as the seeds of the mutations. */
async function realAnswers(): Promise<{ spec: unknown; setCookie: string; cluster: unknown }> {
  await using auth = await replicaLogin();
  const headers = { Authorization: `Bearer ${await auth.accessToken()}` };
  const options = await fetch(`${endpoints.apiUrl}/api/v1/options`, {
    headers,
    signal: AbortSignal.timeout(10_000),
  });
  const setCookie = options.headers.getSetCookie()[0];
  const spec = await options.json();
  assert.ok(setCookie);
  return {
    spec,
    setCookie,
    // The documented shape of a running cluster (routes.py/models.py), with PEM placeholders.
    cluster: {
      name: "0fdc4eb9aa5a4b4c9d7e2f00a1b2c3d4",
      dashboard_route: "/clusters/0fdc4eb9aa5a4b4c9d7e2f00a1b2c3d4/status",
      status: "RUNNING",
      start_time: 1767000000000,
      stop_time: null,
      options: { worker_cores: 2, worker_memory: 4.0, image: "img" },
      tls_cert: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      tls_key: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
    },
  };
}

const ODD_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  NaN,
  "",
  "x".repeat(10_000),
  [],
  {},
  [null],
  { type: "int" },
  "RUNNING",
  "/",
];

function mutate(value: unknown, rnd: SeededRandom, depth = 0): unknown {
  if (depth > 4 || rnd.int(4) === 0) return ODD_VALUES[rnd.int(ODD_VALUES.length)];
  if (Array.isArray(value)) {
    const copy = value.map((v) => (rnd.int(3) === 0 ? mutate(v, rnd, depth + 1) : v));
    if (rnd.int(4) === 0) copy.splice(rnd.int(copy.length + 1), 1);
    if (rnd.int(4) === 0) copy.push(mutate(copy[0], rnd, depth + 1));
    return copy;
  }
  if (value !== null && typeof value === "object") {
    const copy: Record<string, unknown> = { ...value as Record<string, unknown> };
    const keys = Object.keys(copy);
    if (keys.length && rnd.int(3) === 0) delete copy[keys[rnd.int(keys.length)]];
    for (const k of Object.keys(copy)) {
      if (rnd.int(3) === 0) copy[k] = mutate(copy[k], rnd, depth + 1);
    }
    if (rnd.int(5) === 0) copy[`extra${rnd.int(10)}`] = mutate(null, rnd, depth + 1);
    return copy;
  }
  return ODD_VALUES[rnd.int(ODD_VALUES.length)];
}

function mutateText(text: string, rnd: SeededRandom): string {
  const chars = [...text];
  const edits = 1 + rnd.int(4);
  for (let i = 0; i < edits; i++) {
    const at = rnd.int(chars.length + 1);
    const op = rnd.int(3);
    const ch = String.fromCharCode(rnd.int(3) === 0 ? rnd.int(0x3000) : 32 + rnd.int(95));
    if (op === 0) chars.splice(at, 1);
    else if (op === 1) chars.splice(at, 0, ch);
    else chars[at] = ch;
  }
  return chars.join("");
}

Deno.test("gateway fuzz - mutated option specs, cluster reports and cookies give typed errors only", async () => {
  const seeds = await realAnswers();
  const rnd = new SeededRandom(0x6a7e);
  const iterations = fuzzIterations(2_000);
  let accepted = 0;
  for (let i = 0; i < iterations; i++) {
    const specJson = rnd.int(2) ? mutate(seeds.spec, rnd) : parseOrNull(
      mutateText(JSON.stringify(seeds.spec), rnd),
    );
    try {
      const spec = ClusterOptionsSpec.fromJson(specJson, "fuzz");
      accepted++;
      const candidate = mutate({ worker_cores: 2, worker_memory: 4, image: "i" }, rnd);
      try {
        spec.validate(candidate as Record<string, number>);
      } catch (e) {
        if (!(e instanceof InvalidOptions)) throw e;
        assert.ok(e.message.length < 2_000, e.message.slice(0, 3000));
      }
      spec.serverRefusal(mutateText("worker_cores must be <= 10, got 11", rnd), {});
    } catch (e) {
      if (!(e instanceof UnexpectedResponse)) throw e;
    }
    try {
      const report = ClusterReport.fromJson(mutate(seeds.cluster, rnd), endpoints, "fuzz");
      accepted++;
      assert.equal(typeof report.name, "string");
    } catch (e) {
      if (!(e instanceof UnexpectedResponse)) throw e;
    }
    const jar = new CookieJar(endpoints.origin);
    const url = new URL(`${endpoints.apiUrl}/api/v1/clusters/`);
    const headers = new Headers();
    for (let n = rnd.int(4); n >= 0; n--) {
      try {
        headers.append("Set-Cookie", mutateText(seeds.setCookie, rnd));
      } catch {
        // a mutation the Headers class itself refuses never reaches the jar
      }
    }
    jar.store(url, headers);
    const sent = jar.header(url);
    if (sent !== undefined) assert.ok(sent.length <= 20 * 8192);
  }
  assert.ok(accepted > 0, "some mutations are still valid answers");
});

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
