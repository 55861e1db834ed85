import assert from "node:assert/strict";
import { pythonEnv, type PythonEra } from "../tests/replica/python_env.ts";
import { GraphBuildError } from "./errors.ts";
import { collectGraph, type Node, py, taskDict } from "./graph.ts";
import { dumps, PyFloat } from "./pickle/writer.ts";

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

Deno.test("graph - collecting shares nodes and skips keys already held", () => {
  const x = py.call("operator.add", 1, 2);
  const y = py.call("operator.mul", x, x);
  const z = py.call("builtins.sum", [x, y]);
  assert.deepEqual(y.dependencies.map((d) => d.key), [x.key]);
  const all = collectGraph([z, y], () => false);
  assert.deepEqual(new Set(all.keys()), new Set([x.key, y.key, z.key]));
  const partial = collectGraph([z], (key) => key === y.key);
  assert.deepEqual(new Set(partial.keys()), new Set([x.key, z.key]));
});

Deno.test("graph - values without a Python equivalent are refused", () => {
  for (const bad of [() => 1, Symbol("s"), undefined, new Date(), new Float64Array(2)]) {
    assert.throws(() => py.call("builtins.id", bad), GraphBuildError);
  }
  assert.throws(() => py.fn("nodots"), GraphBuildError);
  assert.throws(() => py.call("f.g", py.kwargs({}), py.kwargs({})), GraphBuildError);
  assert.throws(() => py.value([py.call("f.g")]), GraphBuildError);
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
  ];
  return { nodes, expected };
}

async function runInPython(era: PythonEra, nodes: Node[]): Promise<unknown[]> {
  const dsk = taskDict(collectGraph(nodes, () => false).values());
  const script = `
import json, pickle, sys
import dask.local
from dask._task_spec import GraphNode
dsk = pickle.loads(sys.stdin.buffer.read())
assert all(isinstance(v, GraphNode) for v in dsk.values()), dsk
keys = json.loads(sys.argv[1])
out = dask.local.get_sync(dsk, keys)
print(json.dumps([v.item() if hasattr(v, "item") else v for v in out]))
`;
  const child = new Deno.Command(await pythonEnv(era), {
    args: ["-c", script, JSON.stringify(nodes.map((n) => n.key))],
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

for (const era of ["current", "2025.3"] as const) {
  Deno.test(`graph - Python ${era} runs our task pickles to the intended values`, async () => {
    const { nodes, expected } = sampleGraph();
    assert.deepEqual(await runInPython(era, nodes), expected);
  });
}
