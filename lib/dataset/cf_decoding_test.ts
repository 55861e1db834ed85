/**
 * CF decoding rules in isolation; dataset_test.ts checks them against xarray on real stores.
 */
import assert from "node:assert/strict";
import type { NDArray } from "../../protocol/mod.ts";
import { cfDecoding, decodeValues } from "./cf_decoding.ts";
import type { StoredArray } from "./store_metadata.ts";

function stored(
  dataType: string,
  attrs: Record<string, unknown>,
  fillValue: unknown = null,
): StoredArray {
  return {
    name: "v",
    dims: ["t"],
    shape: [3],
    chunks: [3],
    dataType,
    attrs,
    fillValue,
    read: () => Promise.resolve([]),
  };
}

Deno.test("CF decoding - dtype and attrs as xarray reports them", () => {
  const info = (s: StoredArray, format: 2 | 3 = 2) => {
    const { dtype, attrs } = cfDecoding(s, format).info;
    return { dtype, attrs };
  };
  assert.deepEqual(info(stored("float32", { units: "K" }, NaN)), {
    dtype: "float32",
    attrs: { units: "K" },
  });
  // Zarr v2's fill value masks integers (→ float); v3's does not, its _FillValue attribute does.
  assert.deepEqual(info(stored("int16", {}, -1)).dtype, "float32");
  assert.deepEqual(info(stored("int32", {}, 0)).dtype, "float64");
  assert.deepEqual(info(stored("int16", {}, 0), 3).dtype, "int16");
  assert.deepEqual(info(stored("int16", { _FillValue: -1 }, 0), 3), {
    dtype: "float32",
    attrs: {},
  });
  assert.deepEqual(info(stored("int16", { scale_factor: 0.5, add_offset: 1.5, units: "m" })), {
    dtype: "float64",
    attrs: { units: "m" },
  });
  assert.deepEqual(
    info(stored("int64", { units: "hours since 2022-08-20", calendar: "standard" })),
    {
      dtype: "datetime64[ns]",
      attrs: {},
    },
  );
  assert.deepEqual(
    info(stored("int64", { units: "days since 2000-01-01", calendar: "noleap" })).dtype,
    "int64",
  );
  assert.deepEqual(info(stored("int8", { dtype: "bool" })), { dtype: "bool", attrs: {} });
  assert.deepEqual(info(stored("v2:U5", { coordinates: "h" })), { dtype: "<U5", attrs: {} });
  assert.deepEqual(info(stored("v2:object", {})).dtype, "object");
});

Deno.test("CF decoding - values: masked, unpacked, times", () => {
  const values = (s: StoredArray, raw: ArrayLike<unknown>) => decodeValues(cfDecoding(s, 2), raw);
  assert.deepEqual(
    (values(stored("int16", {}, -1), new Int16Array([1, -1, 3])) as NDArray).toNested(),
    [1, NaN, 3],
  );
  assert.deepEqual(
    (values(
      stored("int16", { scale_factor: 0.5, add_offset: 10 }),
      new Int16Array([0, 2, 4]),
    ) as NDArray).toNested(),
    [10, 11, 12],
  );
  const times = values(
    stored("int64", { units: "days since 2022-08-20" }, -1),
    new BigInt64Array([0n, -1n, 2n]),
  );
  assert.deepEqual((times as Date[]).map((d) => d.getTime()), [
    Date.UTC(2022, 7, 20),
    NaN,
    Date.UTC(2022, 7, 22),
  ]);
  const plain = values(stored("float64", {}, NaN), new Float64Array([1, 2])) as NDArray;
  assert.equal(plain.dtype, "<f8");
  assert.equal(values(stored("v2:U5", {}), ["a", "b"]), undefined);
});
