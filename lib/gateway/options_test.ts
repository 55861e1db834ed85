import assert from "node:assert/strict";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { InvalidOptions, UnexpectedResponse } from "./errors.ts";
import { Gateway } from "./gateway.ts";
import { ClusterOptionsSpec, type ClusterOptionValues } from "./options.ts";
import { replicaLogin } from "./testing/replica_login.ts";

const ep = await readEndpoints();

/**
 * Builds an option spec with every field type in the real dask-gateway-server, and lets the
 * server's own `Options.parse_options` judge each candidate `{field: value}`.
 */
const SERVER_JUDGE = `
import json, sys
from dask_gateway_server.options import Bool, Float, Integer, Mapping, Options, Select, String
opts = Options(
    Integer("cores", default=1, min=1, max=4, label="Cores"),
    Float("memory", default=1, min=0.5, max=8.0, label="Memory (GiB)"),
    String("image", default="img:latest", label="Image"),
    Bool("gpu", default=False, label="GPU"),
    Select("profile", ["small", ("large", {"cpus": 8})], label="Profile"),
    Mapping("env", label="Environment"),
    Integer("any_int"),
)
results = []
for case in json.load(sys.stdin):
    try:
        opts.parse_options(case)
        results.append([True, None])
    except Exception as exc:
        results.append([False, str(exc)])
print(json.dumps({"cluster_options": opts.get_specification(), "results": results}))
`;

const CANDIDATES: ClusterOptionValues[] = [
  { cores: 1 },
  { cores: 4 },
  { cores: 0 },
  { cores: 5 },
  { cores: 2.5 },
  { cores: "2" },
  { memory: 0.5 },
  { memory: 8 },
  { memory: 3 },
  { memory: 8.5 },
  { memory: 0.25 },
  { memory: "1" },
  { image: "x" },
  { image: "" },
  { image: 1 },
  { gpu: true },
  { gpu: false },
  { gpu: 1 },
  { gpu: "true" },
  { profile: "small" },
  { profile: "large" },
  { profile: "huge" },
  { profile: 1 },
  { env: {} },
  { env: { A: "1" } },
  { env: "A=1" },
  { env: 1 },
  { any_int: -123456789 },
  { any_int: 1.5 },
  { foo: 1 },
  { cores: 2, memory: 2.5, image: "i", gpu: true, profile: "large", env: { B: "2" } },
];

async function judgeOnServer(
  cases: unknown[],
): Promise<{ spec: unknown; results: [boolean, string | null][] }> {
  const child = new Deno.Command(ep.python, {
    args: ["-c", SERVER_JUDGE],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(cases)));
  await writer.close();
  const out = await child.output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const parsed = JSON.parse(new TextDecoder().decode(out.stdout));
  return { spec: { cluster_options: parsed.cluster_options }, results: parsed.results };
}

Deno.test("cluster options - every field type of the real server is read with its bounds, defaults and labels", async () => {
  const { spec: json } = await judgeOnServer([]);
  const spec = ClusterOptionsSpec.fromJson(json, "test");
  assert.deepEqual(spec.fields.map((f) => [f.field, f.label, f.default, f.spec]), [
    ["cores", "Cores", 1, { type: "int", min: 1, max: 4 }],
    ["memory", "Memory (GiB)", 1, { type: "float", min: 0.5, max: 8 }],
    ["image", "Image", "img:latest", { type: "string" }],
    ["gpu", "GPU", false, { type: "bool" }],
    ["profile", "Profile", "small", { type: "select", options: ["small", "large"] }],
    ["env", "Environment", {}, { type: "mapping" }],
    ["any_int", "any_int", 0, { type: "int", min: null, max: null }],
  ]);
  assert.deepEqual(spec.defaults().profile, "small");
});

Deno.test("cluster options - the client accepts and refuses exactly what the server does", async () => {
  const { spec: json, results } = await judgeOnServer(CANDIDATES);
  const spec = ClusterOptionsSpec.fromJson(json, "test");
  CANDIDATES.forEach((candidate, i) => {
    const [serverAccepts, serverMessage] = results[i];
    let clientError: InvalidOptions | undefined;
    try {
      spec.validate(candidate);
    } catch (e) {
      assert.ok(e instanceof InvalidOptions);
      clientError = e;
    }
    const label = `${JSON.stringify(candidate)} (server: ${serverMessage ?? "ok"})`;
    assert.equal(clientError === undefined, serverAccepts, label);
    if (clientError) {
      const field = Object.keys(candidate)[0];
      assert.equal(clientError.field, field, label);
      assert.deepEqual(clientError.value, candidate[field], label);
      // The server's message names the same field, and the client maps it back.
      assert.equal(spec.serverRefusal(serverMessage!, candidate).field, field, label);
    }
  });
});

Deno.test("cluster options - booleans are not numbers, although Python lets them through", () => {
  const spec = new ClusterOptionsSpec([
    { field: "n", label: "N", default: 1, spec: { type: "int", min: null, max: null } },
    { field: "x", label: "X", default: 1, spec: { type: "float", min: null, max: null } },
  ]);
  assert.throws(() => spec.validate({ n: true }), InvalidOptions);
  assert.throws(() => spec.validate({ x: false }), InvalidOptions);
  assert.throws(() => spec.validate({ x: NaN }), InvalidOptions);
  assert.throws(() => spec.validate({ n: 2 ** 60 }), InvalidOptions);
});

Deno.test("cluster options - the replica's spec is typed: worker_cores int 1..10, worker_memory float 1..32, image", async () => {
  await using auth = await replicaLogin();
  for (const site of Object.values(ep.sites)) {
    const gateway = new Gateway({ address: site.address, auth });
    const spec = await gateway.clusterOptions();
    assert.deepEqual(spec.field("worker_cores")?.spec, { type: "int", min: 1, max: 10 });
    assert.equal(spec.field("worker_cores")?.default, 2);
    assert.deepEqual(spec.field("worker_memory")?.spec, { type: "float", min: 1, max: 32 });
    assert.equal(spec.field("worker_memory")?.default, 4);
    assert.equal(spec.field("image")?.spec.type, "string");
    assert.equal(spec.field("worker_cores")?.label, "Worker Cores");
  }
});

Deno.test("cluster options - refusals name the field, the value and the allowed range", () => {
  const spec = new ClusterOptionsSpec([
    {
      field: "worker_cores",
      label: "Worker Cores",
      default: 2,
      spec: { type: "int", min: 1, max: 10 },
    },
    { field: "image", label: "Image", default: "", spec: { type: "string" } },
  ]);
  assert.throws(() => spec.validate({ worker_cores: 11 }), (e) => {
    assert.ok(e instanceof InvalidOptions);
    assert.equal(e.field, "worker_cores");
    assert.equal(e.value, 11);
    assert.equal(e.allowed, "an integer from 1 to 10");
    assert.match(e.message, /worker_cores = 11 .* an integer from 1 to 10/);
    return true;
  });
  assert.throws(() => spec.validate({ worker_core: 2 }), (e) => {
    assert.ok(e instanceof InvalidOptions);
    assert.match(e.message, /no such option; its options are worker_cores, image/);
    return true;
  });
});

Deno.test("cluster options - a malformed spec from the server is an UnexpectedResponse", () => {
  assert.throws(() => ClusterOptionsSpec.fromJson({ options: [] }, "u"), UnexpectedResponse);
  assert.throws(
    () => ClusterOptionsSpec.fromJson({ cluster_options: [{ field: "a", spec: {} }] }, "u"),
    UnexpectedResponse,
  );
  assert.throws(
    () =>
      ClusterOptionsSpec.fromJson({
        cluster_options: [{ field: "a", spec: { type: "int", min: "1" } }],
      }, "u"),
    UnexpectedResponse,
  );
  const future = ClusterOptionsSpec.fromJson({
    cluster_options: [{ field: "a", label: "A", default: 1, spec: { type: "duration" } }],
  }, "u");
  assert.deepEqual(future.field("a")?.spec, { type: "unknown", serverType: "duration" });
  assert.deepEqual(future.validate({ a: "1h" }), { a: "1h" });
});
