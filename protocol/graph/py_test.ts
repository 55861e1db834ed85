import assert from "node:assert/strict";
import { PYTHON_ERAS, pythonEnv, type PythonEra } from "../../tests/replica/python_env.ts";
import { GraphBuildFailed } from "../errors.ts";
import { KEY_REFERENCE } from "./key_reference.ts";
import { type Node, py } from "./py.ts";
import { collectGraph, taskDict } from "./task_graph.ts";
import { dumps } from "../codec/pickle/writer.ts";
import { PyFloat, PyGlobal, PySet, type PyValue } from "../codec/pickle/python_values.ts";

Deno.test("graph - keys are content hashes: equal calls share a key", () => {
  const a = py.call(py.fn("operator.add"), 1, 2);
  const b = py.call("operator.add", 1, 2);
  assert.equal(a.key, b.key);
  assert.match(a.key, /^add-[0-9a-f]{32}$/);
  const distinct = [
    a,
    py.call("operator.add", 2, 1),
    py.call("operator.add", 1, new PyFloat(2)),
    py.call("operator.add", 1, "2"),
    py.call("operator.sub", 1, 2),
    py.call("operator.add", 1, 2, py.kwargs({ x: 1 })),
    py.call("operator.add", [1], 2),
    py.call("operator.add", py.tuple(1), 2),
  ];
  assert.equal(new Set(distinct.map((n) => n.key)).size, distinct.length);
  // Dependencies are part of the content: the same call on different inputs differs.
  assert.notEqual(py.call("f.g", a).key, py.call("f.g", distinct[1]).key);
  assert.equal(py.call("f.g", a).key, py.call("f.g", b).key);
});

Deno.test("graph - attrs propagate to derived nodes without changing keys", () => {
  const x = py.call("numpy.ones", 3);
  const here = x.withAttrs({ location: "site-a" });
  assert.equal(here.key, x.key);
  assert.deepEqual(x.attrs, {});
  const derived = here.method("sum").attr("real");
  assert.deepEqual(derived.attrs, { location: "site-a" });
  assert.equal(derived.key, x.method("sum").attr("real").key);
  const both = py.call("builtins.max", here, py.value(1).withAttrs({ unit: "K" }));
  assert.deepEqual(both.attrs, { location: "site-a", unit: "K" });
});

Deno.test("graph - values without a Python equivalent are refused", () => {
  for (const bad of [() => 1, Symbol("s"), undefined, new Date(), new Float64Array(2)]) {
    assert.throws(() => py.call("builtins.id", bad), GraphBuildFailed);
  }
  assert.throws(() => py.fn("nodots"), GraphBuildFailed);
  assert.throws(() => py.call("f.g", py.kwargs({}), py.kwargs({})), GraphBuildFailed);
  assert.throws(() => py.value([py.call("f.g")]), GraphBuildFailed);
});

/** A graph touching every construct, and the JSON Python should compute for each key. */
function sampleGraph(): { nodes: Node[]; expected: unknown[] } {
  const x = py.call("operator.add", 1, 2);
  const m = py.call("numpy.arange", 6).method("reshape", 2, 3);
  const getter = py.call("operator.attrgetter", "imag");
  const nodes = [
    x,
    py.call("numpy.sum", m, py.kwargs({ axis: 0 })).method("tolist"),
    m.item(py.tuple(1, py.slice(0, 2))).method("tolist"),
    m.attr("shape"),
    py.call("builtins.sum", [x, x, 4]),
    py.call("builtins.sorted", py.tuple(x, 1), py.kwargs({ reverse: true })),
    py.call("builtins.dict", { a: x, b: [x, "s"] }),
    py.call(getter, 5),
    py.value({ k: [1, 2.5, null, true] }),
    py.call("builtins.round", new PyFloat(2), 1),
    py.call("builtins.len", new Uint8Array(100)),
    m.method("astype", "f8", py.kwargs({ order: "F" })).method("sum"),
    // A literal tuple headed by a callable stays data (old workers would run it as a task).
    py.call("builtins.len", py.tuple(new PyGlobal("operator", "add"), 1, 2)),
    py.call("builtins.sorted", new PySet([x as unknown as PyValue, 1])),
    py.call("builtins.list", [py.tuple(x, 2), [x]]),
    py.call("builtins.dict", py.kwargs({ a: [x], b: py.tuple(x) })),
    // dask.utils.apply written out, with a computed callable and computed arguments (persist).
    py.call(
      "dask.utils.apply",
      py.call("operator.itemgetter", 1),
      py.call("builtins.tuple", [[7, x]]),
    ),
  ];
  const expected = [
    3,
    [3, 5, 7],
    [3, 4],
    [2, 3],
    10,
    [3, 1],
    { a: 3, b: [3, "s"] },
    0,
    { k: [1, 2.5, null, true] },
    2.0,
    100,
    15,
    3,
    [1, 3],
    [[3, 2], [3]],
    { a: [3], b: [3] },
    3,
  ];
  return { nodes, expected };
}

async function runInPython(era: PythonEra, nodes: Node[]): Promise<unknown[]> {
  const graphEra = era === "current" ? "expr" : era === "2025.3" ? "hlg" : "tuple";
  const dsk = taskDict(collectGraph(nodes, () => false).values(), graphEra);
  // Task-spec graphs run in dask's synchronous scheduler; tuple graphs in a real in-process
  // scheduler and worker, which resolve WrappedKey references as they do for our client.
  const script = `
import json, pickle, sys
dsk = pickle.loads(sys.stdin.buffer.read())
keys = json.loads(sys.argv[1])
if sys.argv[2] == "tuple":
    from distributed import Client, LocalCluster
    assert all(isinstance(v, tuple) for v in dsk.values()), dsk
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            out = client.get(dsk, keys)
else:
    import dask.local
    from dask._task_spec import GraphNode
    assert all(isinstance(v, GraphNode) for v in dsk.values()), dsk
    out = dask.local.get_sync(dsk, keys)
print(json.dumps([v.item() if hasattr(v, "item") else v for v in out]))
`;
  const child = new Deno.Command(await pythonEnv(era), {
    args: ["-c", script, JSON.stringify(nodes.map((n) => n.key)), graphEra],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(dumps(dsk));
  await w.close();
  const out = await child.output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

for (const era of PYTHON_ERAS) {
  Deno.test(`graph - Python ${era} runs our task pickles to the intended values`, async () => {
    const { nodes, expected } = sampleGraph();
    assert.deepEqual(await runInPython(era, nodes), expected);
  });
}

Deno.test("graph - py.ref: a future's value as a node, with its attributes, no task of its own", () => {
  const future = { key: "sum-abc", attrs: { location: "lumi" }, [KEY_REFERENCE]: true as const };
  const ref = py.ref(future);
  assert.equal(ref.key, "sum-abc");
  assert.deepEqual(ref.attrs, { location: "lumi" });
  assert.deepEqual(ref.futures, [future]);
  const derived = ref.method("mean");
  assert.equal(derived.attrs.location, "lumi");
  // The future's key is referenced, never computed: held keys are skipped when collecting.
  const collected = collectGraph([derived], (key) => key === "sum-abc");
  assert.deepEqual([...collected.keys()], [derived.key]);
  assert.throws(() => py.ref({ key: "x" } as never), GraphBuildFailed);
  assert.throws(() => py.ref(null as never), GraphBuildFailed);
});

Deno.test("graph - a py.fn argument is the function itself", () => {
  const viaFn = py.call("xarray.DataArray.pipe", 1, py.fn("flood_severity.classify"));
  const viaGlobal = py.call(
    "xarray.DataArray.pipe",
    1,
    new PyGlobal("flood_severity", "classify"),
  );
  assert.equal(viaFn.key, viaGlobal.key);
  assert.deepEqual(viaFn.taskSpec, viaGlobal.taskSpec);
});
