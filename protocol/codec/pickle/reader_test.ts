import assert from "node:assert/strict";
import { DecodeFailed } from "../../errors.ts";
import { NDArray } from "../numpy.ts";
import { CODEC_ERAS, PythonCodecDriver } from "../../testing/python_codec_driver.ts";
import { PyException, PyObject } from "./python_objects.ts";
import { loads } from "./reader.ts";
import { PyCall, PyFloat, PyGlobal, PySet, PyTuple, type PyValue } from "./python_values.ts";
import { dumps } from "./writer.ts";

const u8 = (...b: number[]) => Uint8Array.from(b);

function ownProto(v: unknown): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  Object.defineProperty(o, "__proto__", {
    value: v,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return o;
}

/** NDArray as comparable data: dtype, shape and values (bigints as decimal strings). */
function summary(a: unknown): unknown {
  assert.ok(a instanceof NDArray, `expected an NDArray, got ${a}`);
  const plain = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(plain) : typeof v === "bigint" ? String(v) : v;
  return [a.dtype, a.shape, plain(a.toNested())];
}

Deno.test("pickle reader - reads back everything the writer writes", () => {
  const cases: [PyValue, unknown][] = [
    [null, null],
    [[1, -1, 300, 70000, -(2 ** 31), 2 ** 40, 2n ** 70n, -(2n ** 70n)], [
      1,
      -1,
      300,
      70000,
      -(2 ** 31),
      2 ** 40,
      2n ** 70n,
      -(2n ** 70n),
    ]],
    [new PyFloat(3), 3],
    ["é✓😀".repeat(100), "é✓😀".repeat(100)],
    [new Uint8Array(300).fill(1), new Uint8Array(300).fill(1)],
    [new PyTuple([1, new PyTuple([])]), [1, []]],
    [{ a: { b: [true] } }, { a: { b: [true] } }],
    [
      new Map<PyValue, PyValue>([[1, 2], [new PyTuple(["x", 0]), 3]]),
      new Map<unknown, unknown>([[1, 2], [["x", 0], 3]]),
    ],
    [new PySet([1, 2]), new Set([1, 2])],
    [new PyGlobal("builtins", "int"), new PyGlobal("builtins", "int")],
    [Array.from({ length: 3000 }, (_, i) => i), Array.from({ length: 3000 }, (_, i) => i)],
  ];
  for (const [value, expected] of cases) assert.deepEqual(loads(dumps(value)), expected);
  // Unknown calls are described, never made.
  const call = loads(dumps(new PyCall(new PyGlobal("os", "system"), ["rm -rf /"])));
  assert.deepEqual(call, new PyObject("os", "system", ["rm -rf /"]));
});

Deno.test("pickle reader - a __proto__ key stays an own property", () => {
  const m = new Map<PyValue, PyValue>([["__proto__", 1], ["a", 2]]);
  const out = loads(dumps(m)) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.equal(Object.hasOwn(out, "__proto__"), true);
  assert.equal(out.a, 2);
  assert.deepEqual(Object.keys(out), ["__proto__", "a"]);
});

Deno.test("pickle reader - rejects malformed input with DecodeFailed", () => {
  const bad: [Uint8Array, RegExp][] = [
    [u8(), /unexpected end/],
    [u8(0x80, 4, 0xff), /unknown opcode 0xff/],
    [u8(0x80, 6, 0x4e, 0x2e), /protocol 6/],
    [u8(0x80, 4, 0x4e), /unexpected end/],
    [u8(0x80, 4, 0x2e), /empty stack/],
    [u8(0x80, 4, 0x52, 0x2e), /stack underflow/],
    [u8(0x80, 4, 0x68, 3, 0x2e), /memo entry 3 is missing/],
    [u8(0x80, 4, 0x8b, 0xff, 0xff, 0xff, 0xff, 1, 0x2e), /LONG4 needs 4294967295 bytes/],
    [
      u8(0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x2e),
      /needs 4\.6\d*e\+18 bytes|needs \d+ bytes/,
    ],
    [u8(0x80, 4, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x2e), /string needs/],
    [u8(0x80, 4, 0x42, 0xff, 0xff, 0xff, 0x7f, 0x2e), /byte string needs 2147483647 bytes/],
    [u8(0x80, 4, 0x95, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x4e, 0x2e), /frame needs 255 bytes/],
    [u8(0x80, 4, 0x4b, 1, 0x61, 0x2e), /stack underflow/],
    [u8(0x80, 4, 0x4b, 1, 0x4b, 2, 0x61, 0x2e), /APPEND\(S\) on something that is not a list/],
    [u8(0x80, 4, 0x4b, 1, 0x4e, 0x62, 0x2e), /BUILD on a value that is not an object/],
    [u8(0x80, 4, 0x31, 0x2e), /no MARK/],
    [u8(0x80, 5, 0x97, 0x2e), /out-of-band buffer 0 but only 0 buffers/],
    [u8(0x80, 4, 0x4e, 0x51, 0x2e), /persistent ids are not supported/],
    [u8(0x80, 4, 0x82, 1, 0x2e), /extension codes are not supported/],
    [u8(0x49, 0x31, 0x78, 0x0a, 0x2e), /"1x" is not an integer/],
    [u8(0x49, 0x31), /not terminated by a newline/],
    [u8(0x80, 4, 0x8c, 1, 0x61, 0x4b, 1, 0x93, 0x2e), /STACK_GLOBAL needs two strings/],
    [u8(0x80, 4, 0x8c, 0, 0x8c, 1, 0x61, 0x93, 0x2e), /empty module or name/],
    [u8(0x80, 4, 0x28, 0x4b, 1, 0x64, 0x2e), /odd number of items/],
  ];
  for (const [data, message] of bad) {
    assert.throws(() => loads(data), (e: unknown) => {
      assert.ok(e instanceof DecodeFailed, `${data}: ${e}`);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("pickle reader - nesting, value-count and memo limits", () => {
  const text = (t: string) => [...new TextEncoder().encode(t)];
  let deep: PyValue = 1;
  for (let i = 0; i < 300; i++) deep = [deep];
  const data = dumps(deep);
  assert.throws(() => loads(data), /nested deeper than 256 levels/);
  assert.doesNotThrow(() => loads(data, { maxDepth: 400 }));

  const many = dumps(Array.from({ length: 100 }, (_, i) => i));
  assert.throws(() => loads(many, { maxOutputItems: 50 }), /more than 50 values/);
  assert.equal((loads(many, { maxOutputItems: 200 }) as number[]).length, 100);

  // One list memoized 200 times: memo entries are limited too.
  const memo = Uint8Array.from([0x80, 4, 0x5d, ...new Array(200).fill(0x94), 0x2e]);
  assert.throws(() => loads(memo, { maxOutputItems: 150 }), /memo larger than 150 entries/);
  assert.deepEqual(loads(memo), []);

  // One APPENDS with 200 000 items (Python batches by 1000; a peer need not).
  const items = new Array(200_000).fill([0x4b, 1]).flat();
  assert.equal(
    (loads(Uint8Array.from([0x80, 4, 0x5d, 0x28, ...items, 0x65, 0x2e])) as number[]).length,
    200_000,
  );
  const onObject = loads(Uint8Array.from([
    0x80,
    4,
    0x63,
    ...text("m\nC\n"),
    0x29,
    0x52,
    0x28,
    ...items,
    0x65,
    0x2e,
  ])) as PyObject;
  assert.equal(onObject.listItems?.length, 200_000);

  // An exception whose argument contains itself still gets a (cut) message.
  const selfArg = loads(Uint8Array.from([
    0x80,
    4,
    0x8c,
    8,
    ...text("builtins"),
    0x8c,
    8,
    ...text("KeyError"),
    0x93,
    0x5d,
    0x94,
    0x68,
    0,
    0x61,
    0x85,
    0x52,
    0x2e,
  ]));
  assert.ok(selfArg instanceof PyException);
  assert.equal(selfArg.message, "[[[[[[[[...]]]]]]]]");

  // A self-containing list decodes to a self-containing array.
  const cyclic = loads(u8(0x80, 4, 0x5d, 0x94, 0x68, 0, 0x61, 0x2e)) as unknown[];
  assert.equal(cyclic[0], cyclic);
});

// DEDL's stack (msgpack 1.0.5, numpy 1.26, distributed 2023.8.0) and the newest.
for (const era of CODEC_ERAS) {
  Deno.test(`pickle reader - golden pickles made by Python (${era})`, async (t) => {
    const py = await PythonCodecDriver.start(era);
    try {
      await t.step("plain values in protocols 0 to 5", async () => {
        const expected: [string, unknown][] = [
          ["None", null],
          ["True", true],
          ["False", false],
          ["0", 0],
          ["255", 255],
          ["65536", 65536],
          ["-1", -1],
          ["-(2**31)", -(2 ** 31)],
          ["2**31", 2 ** 31],
          ["2**53 - 1", 2 ** 53 - 1],
          ["2**53", 2n ** 53n],
          ["-(2**64)", -(2n ** 64n)],
          ["10**40", 10n ** 40n],
          ["1.5", 1.5],
          ["-0.0", -0],
          ["float('inf')", Infinity],
          ["1e300", 1e300],
          ["''", ""],
          ["'héllo ✓ 😀'", "héllo ✓ 😀"],
          ["'a\\nb\\\\c\\'\"\\x00\\u20ac'", "a\nb\\c'\"\x00€"],
          ["'x' * 300", "x".repeat(300)],
          ["b''", new Uint8Array()],
          ["b'\\x00\\xff\\n'", u8(0, 255, 10)],
          ["bytearray(b'ab')", u8(97, 98)],
          ["bytes(range(256)) * 2", Uint8Array.from({ length: 512 }, (_, i) => i % 256)],
          ["[1, [2, (3, 4)]]", [1, [2, [3, 4]]]],
          ["()", []],
          ["(1,)", [1]],
          ["(1, 2, 3, 4)", [1, 2, 3, 4]],
          ["list(range(1500))", Array.from({ length: 1500 }, (_, i) => i)],
          ["{'a': 1, 'b': {'c': None}}", { a: 1, b: { c: null } }],
          ["{1: 'x', ('t', 0): 2}", new Map<unknown, unknown>([[1, "x"], [["t", 0], 2]])],
          ["{'__proto__': 1}", ownProto(1)],
          ["{1, 2}", new Set([1, 2])],
          ["frozenset({'a'})", new Set(["a"])],
          ["collections.OrderedDict([('a', 1), ('b', 2)])", { a: 1, b: 2 }],
          ["collections.defaultdict(list, {'k': [1]})", { k: [1] }],
          ["int", new PyGlobal("builtins", "int")],
          ["collections.OrderedDict", new PyGlobal("collections", "OrderedDict")],
          ["fractions.Fraction(1, 3)", new PyObject("fractions", "Fraction", [1, 3])],
          ["complex(1, 2)", new PyObject("builtins", "complex", [1, 2])],
          ["np.float64(2.5)", 2.5],
          ["np.float32(1.5)", 1.5],
          ["np.float16(0.5)", 0.5],
          ["np.int64(-7)", -7],
          ["np.int64(2**62)", 2n ** 62n],
          ["np.uint64(2**64 - 1)", 2n ** 64n - 1n],
          ["np.int32(-5)", -5],
          ["np.uint8(200)", 200],
          ["np.int8(-3)", -3],
          ["np.bool_(True)", true],
        ];
        const blobs = await py.run<Uint8Array[][]>(
          `
import collections, fractions
result = [[pickle.dumps(eval(expr), protocol=p) for p in range(6)] for expr in args["exprs"]]
`,
          { exprs: expected.map(([e]) => e) },
        );
        expected.forEach(([expr, want], i) => {
          blobs[i].forEach((blob, protocol) => {
            assert.deepEqual(loads(blob), want, `${expr} at protocol ${protocol}`);
          });
        });
      });

      await t.step("objects with BUILD state, shared and cyclic references", async () => {
        const [ns0, ns4, shared, cyclic, dt] = await py.run<Uint8Array[]>(`
import argparse
x = [1]
l = []
l.append(l)
result = [pickle.dumps(argparse.Namespace(a=1), protocol=0),
          pickle.dumps(argparse.Namespace(a=1), protocol=4),
          pickle.dumps([x, x], protocol=4),
          pickle.dumps(l, protocol=2),
          pickle.dumps(np.datetime64('2020-01-01', 'ns'), protocol=4)]
`);
        const expected = new PyObject("argparse", "Namespace", [], undefined, { a: 1 });
        assert.deepEqual(loads(ns0), expected);
        assert.deepEqual(loads(ns4), expected);
        const s = loads(shared) as unknown[];
        assert.equal(s[0], s[1]);
        const c = loads(cyclic) as unknown[];
        assert.equal(c[0], c);
        const scalar = loads(dt);
        assert.ok(scalar instanceof PyObject);
        assert.equal(scalar.name, "scalar");
      });

      await t.step(
        "numpy arrays: protocol 2/4 (_reconstruct) and 5 (out-of-band _frombuffer)",
        async () => {
          const exprs = [
            "np.arange(6, dtype='f8').reshape(2, 3)",
            "np.arange(6, dtype='>i4').reshape(2, 3)",
            "np.asfortranarray(np.arange(6, dtype='i8').reshape(2, 3))",
            "np.arange(12, dtype='i2').reshape(3, 4)[:, ::2]",
            "np.array(3.5)",
            "np.array([True, False, True])",
            "np.array(['2020-01-01', '1970-01-02'], dtype='M8[ns]')",
            "np.array(['ab', 'xyz'], dtype='U3')",
            "np.zeros((0, 3), dtype='u1')",
            "np.arange(4, dtype='c16')",
          ];
          const cases = await py.run<[Uint8Array, Uint8Array, Uint8Array, Uint8Array[], unknown][]>(
            `
def summary(a):
    deep = lambda v, f: [deep(x, f) for x in v] if isinstance(v, list) else f(v)
    values = a.tolist()
    if a.dtype.kind == 'M':
        values = deep(a.astype('i8').tolist(), str)
    elif a.dtype.kind in 'iu' and a.dtype.itemsize == 8:
        values = deep(values, str)
    if a.dtype.kind == 'c':
        values = [[v.real, v.imag] for v in a.ravel().tolist()]
    return [a.dtype.newbyteorder('<').str if a.dtype.byteorder == '>' else a.dtype.str, list(a.shape), values]
result = []
for expr in args["exprs"]:
    a = eval(expr)
    buffers = []
    p5 = pickle.dumps(a, protocol=5, buffer_callback=buffers.append)
    result.append([pickle.dumps(a, protocol=2), pickle.dumps(a, protocol=4),
                   p5, [b.raw() for b in buffers], summary(a)])
`,
            { exprs },
          );
          cases.forEach(([p2, p4, p5, buffers, want], i) => {
            assert.deepEqual(summary(loads(p2)), want, `${exprs[i]} protocol 2`);
            assert.deepEqual(summary(loads(p4)), want, `${exprs[i]} protocol 4`);
            assert.deepEqual(summary(loads(p5, { buffers })), want, `${exprs[i]} protocol 5`);
          });
          assert.throws(() => loads(cases[0][2]), /out-of-band buffer 0 but only 0/);
        },
      );

      await t.step("protocol 5 out-of-band bytearray buffers", async () => {
        const [blob, buffers] = await py.run<[Uint8Array, Uint8Array[]]>(`
bufs = []
blob = pickle.dumps([pickle.PickleBuffer(bytearray(b"abc")), pickle.PickleBuffer(b"de")], protocol=5, buffer_callback=bufs.append)
result = [blob, [b.raw() for b in bufs]]
`);
        const got = loads(blob, { buffers }) as Uint8Array[];
        assert.deepEqual(got, [u8(97, 98, 99), u8(100, 101)]);
        assert.equal(got[0], buffers[0], "out-of-band buffers are used without copying");
      });

      await t.step(
        "distributed.protocol.pickle.dumps output, cloudpickle fallback included",
        async () => {
          const [blob, buffers, lambdaBlob] = await py.run<[Uint8Array, Uint8Array[], Uint8Array]>(`
from distributed.protocol import pickle as dpickle
bufs = []
blob = dpickle.dumps({"arr": np.arange(3, dtype="i2"), "f": np.float32(2)}, buffer_callback=bufs.append)
result = [blob, [memoryview(b).cast("B").tobytes() for b in bufs], dpickle.dumps(lambda x: x + 1)]
`);
          assert.equal(buffers.length, 1, "the array travels out of band");
          const got = loads(blob, { buffers }) as { arr: NDArray; f: number };
          assert.deepEqual([got.arr.toNested(), got.f], [[0, 1, 2], 2]);
          // A __main__ lambda goes through cloudpickle: described, never executed.
          const fn = loads(lambdaBlob);
          assert.ok(fn instanceof PyObject, String(fn));
          assert.match(fn.module, /^cloudpickle/);
        },
      );

      await t.step("exceptions without tblib", async () => {
        const blobs = await py.run<Uint8Array[]>(`
import io
def plain(v, p):
    f = io.BytesIO()
    pk = pickle.Pickler(f, protocol=p)
    pk.dispatch_table = {}   # bypass tblib's copyreg hooks installed by distributed
    pk.dump(v)
    return f.getvalue()
e = ValueError("bad", 3)
e.note = "n"
result = [plain(KeyError("k"), 2), plain(e, 4), plain(ZeroDivisionError("division by zero"), 5)]
`);
        const [key, value, zero] = blobs.map((b) => loads(b)) as PyException[];
        assert.deepEqual(key, new PyException("KeyError", "builtins", ["k"], "'k'"));
        assert.deepEqual(
          value,
          new PyException(
            "ValueError",
            "builtins",
            ["bad", 3],
            "('bad', 3)",
            undefined,
            undefined,
            undefined,
            { note: "n" },
          ),
        );
        assert.equal(zero.message, "division by zero");
        assert.equal(String(zero), "ZeroDivisionError: division by zero");
      });

      await t.step(
        "exceptions and tracebacks pickled by distributed's error_message (tblib)",
        async () => {
          const got = await py.run<[Uint8Array, Uint8Array, string[], string[], Uint8Array]>(`
import sys, os, tempfile, traceback, importlib
from distributed.core import error_message
d = tempfile.mkdtemp()
with open(os.path.join(d, "golden_mod.py"), "w") as f:
    f.write("def inner(x):\\n    return 1 / x\\n\\ndef outer():\\n    return inner(0)\\n")
sys.path.insert(0, d)
golden_mod = importlib.import_module("golden_mod")
def fmt(tb):
    return ['  File "%s", line %d, in %s' % (f.filename, f.lineno, f.name) for f in traceback.extract_tb(tb)]
try:
    try:
        golden_mod.outer()
    except ZeroDivisionError as e:
        inner = e
        raise RuntimeError("wrapped") from e
except RuntimeError as e:
    outer = e
    msg = error_message(e)
os_msg = None
try:
    open("/nonexistent/file")
except OSError as e:
    os_msg = error_message(e)
result = [msg["exception"].data, msg["traceback"].data, fmt(outer.__traceback__), fmt(inner.__traceback__),
          os_msg["exception"].data]
`);
          const [excBlob, tbBlob, outerLines, innerLines, osBlob] = got;
          const exc = loads(excBlob);
          assert.ok(exc instanceof PyException);
          assert.equal(exc.type, "RuntimeError");
          assert.equal(exc.module, "builtins");
          assert.deepEqual(exc.args, ["wrapped"]);
          assert.equal(exc.message, "wrapped");
          assert.equal(exc.traceback, outerLines.join("\n"));
          assert.ok(exc.cause instanceof PyException);
          assert.equal(exc.cause.type, "ZeroDivisionError");
          assert.equal(exc.cause.message, "division by zero");
          assert.equal(exc.cause.traceback, innerLines.join("\n"));
          assert.ok(innerLines.some((l) => /golden_mod\.py", line 2, in inner$/.test(l)));
          assert.equal(exc.context, exc.cause, "__context__ is the same object as __cause__");
          assert.equal(loads(tbBlob), outerLines.join("\n"));

          const os = loads(osBlob);
          assert.ok(os instanceof PyException);
          assert.equal(os.type, "FileNotFoundError");
          assert.equal(os.attributes.errno, 2);
          assert.equal(os.attributes.filename, "/nonexistent/file");
        },
      );
    } finally {
      await py.close();
    }
  });
}
