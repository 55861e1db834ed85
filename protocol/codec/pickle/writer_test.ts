import assert from "node:assert/strict";
import { EncodeFailed } from "../../errors.ts";
import { CODEC_ERAS, PythonCodecDriver } from "../../testing/python_codec_driver.ts";
import {
  PyCall,
  PyFloat,
  PyGlobal,
  pyGlobal,
  PyInstance,
  PyPickled,
  PySet,
  PyTuple,
  type PyValue,
} from "./python_values.ts";
import { dumps } from "./writer.ts";

const enc = new TextEncoder();

/**
 * The `LLGExpr` vector of `docs/wire-protocol.md`, "Graphs by release":
 * `{"x": Task("x", operator.add, 1, 2)}`, token "t", 120 bytes.
 */
function llgExprVector(): Uint8Array {
  const parts: (number[] | string)[] = [
    [0x80, 0x04, 0x8c, 0x0a],
    "dask._expr",
    [0x8c, 0x11],
    "Expr._reconstruct",
    [0x93, 0x28, 0x8c, 0x0a],
    "dask._expr",
    [0x8c, 0x07],
    "LLGExpr",
    [0x93],
    [0x7d, 0x28, 0x8c, 0x01],
    "x",
    [0x8c, 0x0f],
    "dask._task_spec",
    [0x8c, 0x04],
    "Task",
    [0x93, 0x28, 0x8c, 0x01],
    "x",
    [0x8c, 0x08],
    "operator",
    [0x8c, 0x03],
    "add",
    [0x93],
    [0x4b, 0x01, 0x4b, 0x02, 0x74, 0x52, 0x75, 0x8c, 0x01],
    "t",
    [0x7d, 0x74, 0x52, 0x2e],
  ];
  return new Uint8Array(parts.flatMap((p) => typeof p === "string" ? [...enc.encode(p)] : p));
}

function llgExpr(): PyValue {
  const task = new PyCall(pyGlobal("dask._task_spec.Task"), ["x", pyGlobal("operator.add"), 1, 2]);
  return new PyCall(pyGlobal("dask._expr:Expr._reconstruct"), [
    pyGlobal("dask._expr.LLGExpr"),
    { x: task },
    "t",
    {},
  ]);
}

Deno.test("pickle writer - the LLGExpr vector is reproduced byte for byte", () => {
  const expected = llgExprVector();
  assert.equal(expected.length, 120);
  assert.deepEqual(dumps(llgExpr()), expected);
});

Deno.test("pickle writer - a repeated global is memoized once, a single one is not", () => {
  const neg = () => new PyGlobal("operator", "neg");
  const once = [0x8c, 0x08, ...enc.encode("operator"), 0x8c, 0x03, ...enc.encode("neg"), 0x93];
  // [neg, neg, len]: MEMOIZE after the first neg, BINGET 0 for the second, len as it is.
  const len = [0x8c, 0x08, ...enc.encode("builtins"), 0x8c, 0x03, ...enc.encode("len"), 0x93];
  assert.deepEqual(
    dumps([neg(), neg(), new PyGlobal("builtins", "len")]),
    Uint8Array.of(0x80, 4, 0x5d, 0x28, ...once, 0x94, 0x68, 0, ...len, 0x65, 0x2e),
  );
  assert.deepEqual(dumps(neg()), Uint8Array.of(0x80, 4, ...once, 0x2e));
});

Deno.test("pickle writer - pyGlobal splits dotted and colon names", () => {
  assert.deepEqual(pyGlobal("numpy.mean"), new PyGlobal("numpy", "mean"));
  assert.deepEqual(pyGlobal("os.path.join"), new PyGlobal("os.path", "join"));
  assert.deepEqual(
    pyGlobal("dask._expr:Expr._reconstruct"),
    new PyGlobal("dask._expr", "Expr._reconstruct"),
  );
  assert.throws(() => pyGlobal("mean"), EncodeFailed);
  assert.throws(() => pyGlobal("numpy."), EncodeFailed);
  assert.throws(() => pyGlobal(":x"), EncodeFailed);
});

Deno.test("pickle writer - protocol byte and float encoding", () => {
  assert.deepEqual(dumps(null, { protocol: 5 }), Uint8Array.of(0x80, 5, 0x4e, 0x2e));
  // JS 2.0 is an int; PyFloat forces BINFLOAT with a big-endian double.
  assert.deepEqual(dumps(2), Uint8Array.of(0x80, 4, 0x4b, 2, 0x2e));
  assert.deepEqual(
    dumps(new PyFloat(2)),
    Uint8Array.of(0x80, 4, 0x47, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x2e),
  );
  assert.throws(() => dumps(null, { protocol: 3 as 4 }), EncodeFailed);
});

Deno.test("pickle writer - rejects values outside the model", () => {
  const bad: unknown[] = [
    undefined,
    () => 1,
    Symbol("s"),
    new Date(0),
    new Float64Array(2),
    [1, new (class Foo {})()],
  ];
  for (const v of bad) assert.throws(() => dumps(v as PyValue), EncodeFailed, String(v));
  const cyclic: PyValue[] = [];
  cyclic.push(cyclic);
  assert.throws(() => dumps(cyclic), /nested deeper than 1000 levels/);
  let deep: PyValue = 1;
  for (let i = 0; i < 20; i++) deep = [deep];
  assert.throws(() => dumps(deep, { maxDepth: 10 }), EncodeFailed);
  assert.doesNotThrow(() => dumps(deep, { maxDepth: 21 }));
});

/** Each case: our value, and a Python expression that must equal what `pickle.loads` gives. */
function goldenCases(): [PyValue, string][] {
  const bytes70k = new Uint8Array(70000).map((_, i) => i % 251);
  const longString = "é".repeat(200); // 400 UTF-8 bytes: BINUNICODE
  const map = new Map<PyValue, PyValue>([
    [new PyTuple(["x", 0]), 1],
    [3, "three"],
    [null, new PyFloat(1)],
  ]);
  return [
    [null, "None"],
    [true, "True"],
    [false, "False"],
    [0, "0"],
    [255, "255"],
    [256, "256"],
    [65535, "65535"],
    [65536, "65536"],
    [-1, "-1"],
    [2 ** 31 - 1, "2**31 - 1"],
    [-(2 ** 31), "-(2**31)"],
    [2 ** 31, "2**31"],
    [-(2 ** 31) - 1, "-(2**31) - 1"],
    [2 ** 53, "2**53"],
    [1e20, "10**20"],
    [-(2n ** 63n), "-(2**63)"],
    [2n ** 64n, "2**64"],
    [-(10n ** 40n) + 7n, "-(10**40) + 7"],
    [128n, "128"],
    [-128n, "-128"],
    [0.5, "0.5"],
    [-0.1, "-0.1"],
    [new PyFloat(2), "2.0"],
    [new PyFloat(-0), "-0.0"],
    [Infinity, "float('inf')"],
    [NaN, "float('nan')"],
    ["", "''"],
    ["x".repeat(255), "'x' * 255"],
    ["x".repeat(256), "'x' * 256"],
    ["héllo wörld ✓ 😀", "'héllo wörld ✓ 😀'"],
    [longString, "'é' * 200"],
    [new Uint8Array(), "b''"],
    [Uint8Array.of(0, 1, 255), "b'\\x00\\x01\\xff'"],
    [new Uint8Array(255).fill(7), "b'\\x07' * 255"],
    [bytes70k, "bytes(i % 251 for i in range(70000))"],
    [[], "[]"],
    [[1, "a", [2, [3]]], "[1, 'a', [2, [3]]]"],
    [Array.from({ length: 2500 }, (_, i) => i), "list(range(2500))"],
    [new PyTuple([]), "()"],
    [new PyTuple([1]), "(1,)"],
    [new PyTuple([1, new PyTuple([2, 3])]), "(1, (2, 3))"],
    [{}, "{}"],
    [{ a: 1, b: [true, null], __proto__x: 2 }, "{'a': 1, 'b': [True, None], '__proto__x': 2}"],
    [{ a: 1, skipped: undefined }, "{'a': 1}"],
    [map, "{('x', 0): 1, 3: 'three', None: 1.0}"],
    [
      new Map(Array.from({ length: 1500 }, (_, i) => [i, i * 2] as [PyValue, PyValue])),
      "{i: i * 2 for i in range(1500)}",
    ],
    [new PySet([]), "set()"],
    [new PySet([1, "a", new PyTuple([1, 2])]), "{1, 'a', (1, 2)}"],
    [new PyGlobal("builtins", "len"), "len"],
    [new PyGlobal("collections", "OrderedDict.fromkeys"), "collections.OrderedDict.fromkeys"],
    [new PyCall(pyGlobal("builtins.sum"), [[1, 2, 3]]), "6"],
    [new PyCall(pyGlobal("builtins.dict"), []), "{}"],
    [
      new PyCall(pyGlobal("numpy.frombuffer"), [Uint8Array.of(0, 0, 0x80, 0x3f), "<f4"]),
      "np.frombuffer(b'\\x00\\x00\\x80\\x3f', '<f4')",
    ],
    [
      new PyPickled(Uint8Array.of(0x80, 4, 0x4b, 42, 0x2e)),
      "42",
    ],
    [[new PyPickled(dumps({ k: new PyTuple([1]) }))], "[{'k': (1,)}]"],
    // NEWOBJ + BUILD: __init__ is not called, the state fills __dict__.
    [
      new PyInstance(pyGlobal("argparse.Namespace"), { a: 1, b: "x" }),
      "__import__('argparse').Namespace(a=1, b='x')",
    ],
    [new PyInstance(pyGlobal("collections.OrderedDict")), "collections.OrderedDict()"],
    // Repeated globals come from the memo: BINGET, and LONG_BINGET past 256 entries.
    [
      Array.from({ length: 3 }, () => new PyCall(pyGlobal("operator.neg"), [2])),
      "[-2, -2, -2]",
    ],
    [
      Array.from({ length: 6 }, (_, i) => new PyGlobal("operator", i % 2 ? "neg" : "pos")),
      "[operator.neg if i % 2 else operator.pos for i in range(6)]",
    ],
    [new PyInstance(pyGlobal("builtins.tuple"), undefined, [[1, 2]]), "(1, 2)"],
    [
      new PyInstance(pyGlobal("fractions.Fraction"), undefined, [3, 4]),
      "__import__('fractions').Fraction(3, 4)",
    ],
  ];
}

// DEDL's stack (msgpack 1.0.5, numpy 1.26, distributed 2023.8.0) and the newest.
for (const era of CODEC_ERAS) {
  Deno.test(`pickle writer - Python's pickle.loads gives the intended objects (${era})`, async (t) => {
    const py = await PythonCodecDriver.start(era);
    try {
      await t.step("value model, boundaries and batching", async () => {
        const cases = goldenCases();
        const diffs = await py.run<(string | null)[]>(
          `
import collections, operator
result = []
for blob, expr in args["cases"]:
    got = pickle.loads(blob)
    want = eval(expr)
    result.append(strict_diff(got, want) if not isinstance(want, np.ndarray)
                  else (None if np.array_equal(got, want) and got.dtype == want.dtype else repr(got)))
`,
          { cases: cases.map(([v, expr]) => [dumps(v), expr]) },
        );
        cases.forEach(([, expr], i) => assert.equal(diffs[i], null, `case ${expr}: ${diffs[i]}`));
      });

      await t.step("more than 256 repeated globals: LONG_BINGET", async () => {
        const names = await py.run<string[]>(
          `import os\nresult = sorted(n for n in dir(os) if not n.startswith("_"))[:300]`,
          {},
        );
        assert.equal(names.length, 300);
        const value = [...names, ...names].map((n) => new PyGlobal("os", n));
        const got = await py.run<string | null>(
          `import os
names = sorted(n for n in dir(os) if not n.startswith("_"))[:300]
got = pickle.loads(args["b"])
result = None if got == [getattr(os, n) for n in names * 2] else repr(got[:5])`,
          { b: dumps(value) },
        );
        assert.equal(got, null);
      });

      await t.step("protocol 5 output loads too", async () => {
        const got = await py.run<string | null>(
          `result = strict_diff(pickle.loads(args["b"]), {'a': (1, 2.5)})`,
          { b: dumps({ a: new PyTuple([1, 2.5]) }, { protocol: 5 }) },
        );
        assert.equal(got, null);
      });

      // dask._expr exists from dask 2025.4 on; DEDL's stack takes tuple graphs instead.
      await t.step({
        name: "the LLGExpr vector unpickles with dask to LLGExpr with Task x = add(1, 2)",
        ignore: era !== "current",
        fn: async () => {
          const got = await py.run<string[]>(
            `
import operator
from dask._expr import LLGExpr
from dask._task_spec import Task, execute_graph
expr = pickle.loads(args["b"])
graph = expr.__dask_graph__()
task = graph["x"]
assert type(expr) is LLGExpr, type(expr)
assert isinstance(task, Task) and task.func is operator.add and task.args == (1, 2), task
result = [type(expr).__name__, task.key, str(execute_graph(graph)["x"])]
`,
            { b: dumps(llgExpr()) },
          );
          assert.deepEqual(got, ["LLGExpr", "x", "3"]);
        },
      });
    } finally {
      await py.close();
    }
  });
}
