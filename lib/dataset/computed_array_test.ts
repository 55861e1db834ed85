import assert from "node:assert/strict";
import { NDArray } from "../../protocol/mod.ts";
import { decodeComputed } from "./computed_array.ts";
import { UnexpectedResult } from "./errors.ts";

/** The shape of xarray's `DataArray.to_dict(data="array")`, as the client decodes it. */
const answer = {
  dims: ["y", "x"],
  attrs: { units: "1" },
  data: NDArray.from(new Float32Array([0, 1, 1, 0]), [2, 2]),
  coords: {
    y: { dims: ["y"], attrs: {}, data: NDArray.from(new Float64Array([20, 0])) },
    x: { dims: ["x"], attrs: { units: "m" }, data: NDArray.from(new Float64Array([0, 20])) },
    time: {
      dims: [],
      attrs: {},
      data: NDArray.from(new BigInt64Array([1661126400000000n]), [], { dtype: "<M8[us]" }),
    },
  },
  name: "flood",
};

Deno.test("computed arrays - values, dims, coords (times as dates), attrs, name", () => {
  const result = decodeComputed(answer, "flood");
  assert.ok(typeof result !== "number");
  assert.deepEqual(result.dims, ["y", "x"]);
  assert.deepEqual(result.values.toNested(), [[0, 1], [1, 0]]);
  assert.deepEqual((result.coords.y.values as NDArray).toNested(), [20, 0]);
  assert.deepEqual(result.coords.x.attrs, { units: "m" });
  assert.deepEqual(result.coords.time.dims, []);
  assert.deepEqual((result.coords.time.values as Date[]).map((d) => d.toISOString()), [
    "2022-08-22T00:00:00.000Z",
  ]);
  assert.deepEqual(result.attrs, { units: "1" });
  assert.equal(result.name, "flood");
  // Python dicts with other key types arrive as Maps: read the same.
  const fromMaps = decodeComputed(
    new Map(Object.entries({ ...answer, coords: new Map(), name: null })),
    "x",
  );
  assert.ok(typeof fromMaps !== "number");
  assert.equal(fromMaps.name, null);
});

Deno.test("computed arrays - a 0-d result is a number", () => {
  const scalar = (data: NDArray) =>
    decodeComputed({ dims: [], attrs: {}, data, coords: {}, name: null }, "s");
  assert.equal(scalar(NDArray.from(new Float32Array([31571170]), [])), 31571170);
  assert.equal(scalar(NDArray.from(new BigInt64Array([42n]), [])), 42);
  assert.equal(scalar(NDArray.from(new Uint8Array([1]), [], { dtype: "|b1" })), 1);
});

Deno.test("computed arrays - another shape of answer is an UnexpectedResult naming the expression", () => {
  const bad = (value: unknown, message: RegExp) =>
    assert.throws(() => decodeComputed(value, "flood of https://x"), (e: Error) => {
      assert.ok(e instanceof UnexpectedResult);
      assert.match(e.message, message);
      return true;
    });
  bad(3, /^flood of https:\/\/x: the result is not an xarray DataArray's dictionary/);
  bad(
    { ...answer, data: "strings" },
    /its values did not arrive as a numeric array \(got string\)/,
  );
  bad({ ...answer, dims: ["y"] }, /2-d values for dimensions \[y\]/);
  bad({ ...answer, dims: [1, 2] }, /dimension names are not strings/);
});
