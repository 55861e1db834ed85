import assert from "node:assert/strict";
import { NDArray } from "../../protocol/mod.ts";
import { cfTimesToDates, datetime64ToDates, parseCfTimeUnits } from "./time_values.ts";

const iso = (dates: Date[]) =>
  dates.map((d) => Number.isNaN(d.getTime()) ? "NaT" : d.toISOString());

Deno.test("CF time units - the forms xarray decodes", () => {
  const day = parseCfTimeUnits("days since 2022-08-20 00:00:00", "proleptic_gregorian")!;
  assert.deepEqual(day, { unitMs: 86_400_000, epochMs: Date.UTC(2022, 7, 20) });
  assert.deepEqual(parseCfTimeUnits("hour since 2000-1-1")!.epochMs, Date.UTC(2000, 0, 1));
  assert.equal(parseCfTimeUnits("seconds since 1970-01-01T00:00:00Z")!.epochMs, 0);
  assert.equal(
    parseCfTimeUnits("minutes since 2000-01-01 01:00 +01:00")!.epochMs,
    Date.UTC(2000, 0, 1),
  );
  assert.equal(
    parseCfTimeUnits("seconds since 2000-01-01 00:00:00.5")!.epochMs,
    Date.UTC(2000, 0, 1) + 500,
  );
  assert.equal(
    parseCfTimeUnits("days since 0001-01-01")!.epochMs,
    Date.UTC(2000, 0, 1) - 730119 * 86_400_000,
  );
  assert.equal(parseCfTimeUnits("days since 2000-02-29")!.epochMs, Date.UTC(2000, 1, 29));
  assert.equal(parseCfTimeUnits("microseconds since 2000-01-01")!.unitMs, 1e-3);
  // Not times, or not representable as Date: left undecoded.
  for (
    const [units, calendar] of [
      ["K"],
      ["days"],
      ["fortnights since 2000-01-01"],
      ["days since yesterday"],
      ["days since 2000-01-01", "noleap"],
      ["days since 2000-01-01", "360_day"],
    ]
  ) {
    assert.equal(parseCfTimeUnits(units, calendar), undefined, `${units} ${calendar}`);
  }
  assert.equal(parseCfTimeUnits(5), undefined);
});

Deno.test("CF times to dates - values, fill values and NaN are missing", () => {
  const enc = parseCfTimeUnits("hours since 2022-08-20")!;
  assert.deepEqual(iso(cfTimesToDates(new BigInt64Array([0n, 15n, -1n]), enc, new Set([-1n]))), [
    "2022-08-20T00:00:00.000Z",
    "2022-08-20T15:00:00.000Z",
    "NaT",
  ]);
  assert.deepEqual(iso(cfTimesToDates(new Float64Array([1.5, NaN]), enc)), [
    "2022-08-20T01:30:00.000Z",
    "NaT",
  ]);
});

Deno.test("datetime64 arrays to dates - units, NaT, 0-d", () => {
  const ns = NDArray.from(new BigInt64Array([1661126400000000000n, -(2n ** 63n)]), [2], {
    dtype: "<M8[ns]",
  });
  assert.deepEqual(iso(datetime64ToDates(ns)), ["2022-08-22T00:00:00.000Z", "NaT"]);
  const us = NDArray.from(new BigInt64Array([1661126400000001n]), [], { dtype: "<M8[us]" });
  assert.deepEqual(iso(datetime64ToDates(us)), ["2022-08-22T00:00:00.000Z"]);
  const days = NDArray.from(new BigInt64Array([19226n]), [1], { dtype: "<M8[D]" });
  assert.deepEqual(iso(datetime64ToDates(days)), ["2022-08-22T00:00:00.000Z"]);
  const months = NDArray.from(new BigInt64Array([1n]), [1], { dtype: "<M8[M]" });
  assert.throws(() => datetime64ToDates(months), /unit \[M\] is not supported/);
});
