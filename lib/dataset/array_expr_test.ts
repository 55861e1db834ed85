/**
 * Expressions built here, without a cluster: each step is the xarray call it names (the same
 * graph as the hand-written `py` chain), dimensions follow the steps, and bad steps fail early
 * with typed errors. Computing them on real clusters: array_expr_sites_test.ts.
 */
import assert from "node:assert/strict";
import { py } from "../../protocol/mod.ts";
import type { ArrayExpr } from "./array_expr.ts";
import { Dataset } from "./dataset.ts";
import { InvalidExpression, LocationConflict, UnknownDimension } from "./errors.ts";

function dataset(url: string, attrs: Record<string, unknown>, variable: string) {
  return new Dataset({
    url,
    zarrFormat: 2,
    consolidated: true,
    attrs,
    variables: {
      [variable]: {
        dims: ["time", "y", "x"],
        shape: [16, 4096, 4096],
        dtype: "float32",
        chunks: [2, 1024, 1024],
        attrs: {},
      },
    },
    coords: {},
  });
}

const FLOOD = "https://s3.central.example/b/flood.zarr";
const flood = dataset(FLOOD, { location: "central", resolution: "20 m" }, "flood").var("flood");
const rain = dataset("https://s3.lumi.example/b/rain.zarr", { location: "lumi" }, "rain").var(
  "rain",
);
const mask = dataset("/data/mask.zarr", { title: "no location" }, "mask").var("mask");
/** What the expression must equal: the variable as the cluster opens it. */
const opened = py.call("xarray.open_zarr", FLOOD, py.kwargs({ consolidated: true })).item("flood");

Deno.test("expressions - each step is the xarray call it names", () => {
  const same = (expr: ArrayExpr, node: { key: string }) => assert.equal(expr.node.key, node.key);
  same(flood, opened);
  same(
    flood.sum().mul(20).mul(20).div(1000),
    opened.method("sum").method("__mul__", 20).method("__mul__", 20).method("__truediv__", 1000),
  );
  same(
    flood.isel({ time: -1 }).coarsen({ x: 25, y: 25 }, { boundary: "trim" }).median().gt(0).astype(
      "float32",
    ),
    opened.method("isel", { time: -1 }).method(
      "coarsen",
      { x: 25, y: 25 },
      py.kwargs({ boundary: "trim" }),
    ).method("median").method("__gt__", 0).method("astype", "float32"),
  );
  same(
    flood.sel({ y: py.slice(31, 23) }).cumsum("time"),
    opened.method("sel", { y: py.slice(31, 23) }).method("cumsum", "time"),
  );
  same(
    flood.sel({ time: new Date("2022-08-21T06:00:00Z") }, { method: "nearest" }),
    opened.method("sel", { time: "2022-08-21T06:00:00.000" }, py.kwargs({ method: "nearest" })),
  );
  same(flood.sum(["x", "y"]), opened.method("sum", ["x", "y"]));
  same(flood.std("time", { ddof: 1 }), opened.method("std", "time", py.kwargs({ ddof: 1 })));
  same(flood.count("time"), opened.method("count", "time"));
  same(flood.where(flood.gt(0), -1), opened.method("where", opened.method("__gt__", 0), -1));
  same(flood.squeeze("time"), opened.method("squeeze", ["time"]));
  same(flood.rename({ x: "east" }), opened.method("rename", { x: "east" }));
  same(
    flood.resample({ time: "2D" }).max(),
    opened.method("resample", { time: "2D" }).method("max"),
  );
  same(flood.groupby("time.month").mean(), opened.method("groupby", "time.month").method("mean"));
  same(
    flood.call("clip", 0, py.kwargs({ max: 1 })),
    opened.method("clip", 0, py.kwargs({ max: 1 })),
  );
  same(
    flood.add(flood).sub(1).pow(2).ge(1).le(2).lt(3).eq(4).ne(5),
    opened.method("__add__", opened).method("__sub__", 1).method("__pow__", 2).method("__ge__", 1)
      .method("__le__", 2).method("__lt__", 3).method("__eq__", 4).method("__ne__", 5),
  );
});

Deno.test("expressions - dimensions and lengths follow the steps", () => {
  const dims = (e: ArrayExpr) => e.dims.map((d, i) => `${d}:${e.shape[i] ?? "?"}`).join(" ");
  assert.equal(dims(flood), "time:16 y:4096 x:4096");
  assert.equal(dims(flood.sum()), "");
  assert.equal(dims(flood.mean("time")), "y:4096 x:4096");
  assert.equal(dims(flood.isel({ time: -1 })), "y:4096 x:4096");
  assert.equal(
    dims(flood.isel({ time: py.slice(-3, null), x: [1, 2], y: py.slice(null, null, -2) })),
    "time:3 y:2048 x:2",
  );
  assert.equal(dims(flood.isel({ time: py.slice(10, 2, -3) })), "time:3 y:4096 x:4096");
  assert.equal(dims(flood.sel({ y: py.slice(31, 23), time: "2022-08-21" })), "y:? x:4096");
  assert.equal(
    dims(flood.coarsen({ x: 25, y: 25 }, { boundary: "trim" }).median()),
    "time:16 y:163 x:163",
  );
  assert.equal(dims(flood.coarsen({ x: 25 }, { boundary: "pad" }).sum()), "time:16 y:4096 x:164");
  assert.equal(dims(flood.coarsen({ time: 4 }).sum()), "time:4 y:4096 x:4096");
  assert.equal(dims(flood.resample({ time: "2D" }).sum()), "time:? y:4096 x:4096");
  assert.equal(dims(flood.groupby("time.month").sum()), "month:? y:4096 x:4096");
  assert.equal(dims(flood.rename({ x: "east" }).mean("east")), "time:16 y:4096");
  assert.equal(dims(flood.isel({ time: py.slice(0, 1) }).squeeze()), "y:4096 x:4096");
  assert.equal(dims(flood.isel({ x: 0 }).add(flood)), "time:16 y:4096 x:4096");
});

Deno.test("expressions - bad steps fail here with typed errors", () => {
  const fails = (f: () => unknown, type: new (...a: never[]) => Error, message: RegExp) =>
    assert.throws(f, (e: Error) => {
      assert.ok(e instanceof type, `${e}`);
      assert.match(e.message, message);
      return true;
    });
  fails(
    () => flood.sum("z"),
    UnknownDimension,
    /^sum\(\): the array has no dimension "z"; its dimensions are time, y, x$/,
  );
  fails(
    () => flood.sum().mean("x"),
    UnknownDimension,
    /its dimensions are \(none: it is a scalar\)/,
  );
  fails(() => flood.isel({ lat: 0 }), UnknownDimension, /^isel\(\): .* "lat"/);
  fails(() => flood.isel({ time: 1.5 }), InvalidExpression, /isel\(\): time takes an integer/);
  fails(() => flood.isel({ time: py.slice(0, 5, 0) }), InvalidExpression, /step cannot be zero/);
  fails(
    () => flood.coarsen({ x: 25 }).mean(),
    InvalidExpression,
    /"x" has length 4096, not a multiple of 25; pass \{ boundary: "trim" \}/,
  );
  fails(() => flood.coarsen({ x: 0 }), InvalidExpression, /must be a positive integer/);
  fails(
    () => flood.sel({ y: py.slice(1, 2) }).squeeze(),
    InvalidExpression,
    /name the dimensions to drop/,
  );
  fails(() => flood.sel({ time: new Date(NaN) }), InvalidExpression, /invalid Date/);
  fails(() => flood.resample({ time: "1D", x: "2" }), InvalidExpression, /one dimension/);
  fails(() => flood.astype(""), InvalidExpression, /needs a dtype/);
  fails(() => flood.cumsum("lat"), UnknownDimension, /cumsum\(\)/);
});

Deno.test("expressions - location: kept through every step, conflicts refused naming both", () => {
  const steps = flood.isel({ time: -1 }).coarsen({ x: 25, y: 25 }, { boundary: "trim" }).median()
    .gt(0).astype("float32").mul(2).sum();
  assert.equal(steps.location, "central");
  assert.deepEqual(steps.attrs, { location: "central", resolution: "20 m" });
  assert.equal(steps.description, `flood of ${FLOOD}`);
  for (
    const combine of [
      () => flood.add(rain),
      () => flood.where(rain.gt(0)),
      () => flood.where(flood.gt(0), rain),
      () => flood.call("fillna", rain),
    ]
  ) {
    assert.throws(combine, (e: Error) => {
      assert.ok(e instanceof LocationConflict);
      assert.equal(e.left, "central");
      assert.equal(e.right, "lumi");
      assert.match(
        e.message,
        /cannot combine data at "central" with data at "lumi"; compute each at its own site/,
      );
      return true;
    });
  }
  // Data without a location joins the located side; withAttrs re-routes.
  assert.equal(flood.mul(mask).location, "central");
  assert.equal(mask.mul(flood).location, "central");
  assert.equal(mask.mean().location, undefined);
  assert.equal(flood.withAttrs({ location: "lumi" }).add(rain).location, "lumi");
  assert.equal(flood.withAttrs({ location: "lumi" }).node.key, flood.node.key);
});

Deno.test("expressions - result types: number after reducing every dimension", () => {
  // Compile-time checks: these assignments must type-check.
  const area: ArrayExpr<number> = flood.sum().mul(20).mul(20).div(1000);
  const mean: ArrayExpr<number> = flood.mean().sub(1).gt(0);
  const map: ArrayExpr = flood.mean("time");
  assert.ok(area && mean && map);
});
