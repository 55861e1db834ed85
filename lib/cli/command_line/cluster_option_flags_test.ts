import assert from "node:assert/strict";
import { ClusterOptionsSpec } from "../../gateway/options.ts";
import { InvalidOptions } from "../../gateway/errors.ts";
import { clusterOptionsFromFlags } from "./cluster_option_flags.ts";
import { InvalidCommandLine } from "../errors.ts";

/** The option spec the replica's (and DEDL's) gateways publish, plus a bool and a mapping. */
const spec = ClusterOptionsSpec.fromJson({
  cluster_options: [
    {
      field: "worker_cores",
      label: "Worker Cores",
      default: 2,
      spec: { type: "int", min: 1, max: 10 },
    },
    {
      field: "worker_memory",
      label: "Worker Memory (GiB)",
      default: 4,
      spec: { type: "float", min: 1, max: 32 },
    },
    { field: "image", label: "Image", default: "dask", spec: { type: "string" } },
    { field: "gpu", label: "GPU", default: false, spec: { type: "bool" } },
    { field: "env", label: "Environment", default: {}, spec: { type: "mapping" } },
  ],
}, "test");

Deno.test("cli option flags - dashed flags become typed fields", () => {
  const values = clusterOptionsFromFlags(
    new Map<string, string | true>([
      ["worker-cores", "3"],
      ["worker-memory", "6.5"],
      ["image", "ghcr.io/x:1"],
      ["gpu", true],
      ["env", '{"A": "1"}'],
    ]),
    spec,
    "central",
  );
  assert.deepEqual(values, {
    worker_cores: 3,
    worker_memory: 6.5,
    image: "ghcr.io/x:1",
    gpu: true,
    env: { A: "1" },
  });
  assert.deepEqual(spec.validate(values), values);
});

Deno.test("cli option flags - an out-of-range number is left for the spec check to name", () => {
  const values = clusterOptionsFromFlags(new Map([["worker-cores", "11"]]), spec, "central");
  assert.deepEqual(values, { worker_cores: 11 });
  assert.throws(() => spec.validate(values), (e: unknown) => {
    assert.ok(e instanceof InvalidOptions);
    assert.match(e.message, /worker_cores = 11 .*an integer from 1 to 10/);
    return true;
  });
  const text = clusterOptionsFromFlags(new Map([["worker-cores", "two"]]), spec, "central");
  assert.throws(() => spec.validate(text), /worker_cores = "two"/);
});

Deno.test("cli option flags - unknown flag, missing value and bad JSON are usage errors", () => {
  assert.throws(
    () => clusterOptionsFromFlags(new Map([["worker-core", "2"]]), spec, "lumi"),
    (e: unknown) =>
      e instanceof InvalidCommandLine &&
      /--worker-core: .* at lumi .*--worker-cores, --worker-memory/
        .test(e.message),
  );
  assert.throws(
    () => clusterOptionsFromFlags(new Map<string, string | true>([["image", true]]), spec, "lumi"),
    /--image needs a value/,
  );
  assert.throws(
    () => clusterOptionsFromFlags(new Map([["env", "{nope"]]), spec, "lumi"),
    /--env takes a JSON object/,
  );
});
