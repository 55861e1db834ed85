/**
 * Lazy xarray-style expressions on a dataset's variable: each step is an xarray method call in
 * the `py` graph (the escape hatch stays available as {@link ArrayExpr.node}), the expression
 * knows its dimensions and the dataset's attributes — `location` among them, kept through every
 * step as with xarray's `keep_attrs=True` — and computing it runs every chunk as a task of the
 * site's scheduler (`py.collection`), then brings the result back as data.
 * @module
 */
import {
  type Client,
  type Node,
  type NodeAttrs,
  type ProgressOptions,
  py,
  type PyCall,
  type ResultOptions,
} from "../../protocol/mod.ts";
import type { SiteComputation } from "../multicluster/mod.ts";
import { type ComputedArray, decodeComputed } from "./computed_array.ts";
import {
  checkDims,
  coarsenDims,
  type Dims,
  dropDims,
  isSlice,
  renameDims,
  selectDims,
} from "./dims.ts";
import { InvalidExpression, LocationConflict } from "./errors.ts";
import { Reducer } from "./reducer.ts";

/** What computing an expression gives: an array as data, or a number for a 0-d result. */
export type Computed = ComputedArray | number;

/** A position for `isel`: an integer (drops the dimension), a `py.slice(...)`, or integers. */
export type Position = number | PyCall | readonly number[];

/** A label for `sel`: a number, string or `Date` (drops the dimension), a `py.slice`, or a list. */
export type Label = number | string | Date | PyCall | readonly (number | string | Date)[];

/** A number or another expression, as the other operand of arithmetic and comparisons. */
export type Operand = number | ArrayExpr;

/** The attribute that names a dataset's site. */
const LOCATION = "location";

const TO_DICT = py.fn("xarray:DataArray.to_dict");

/**
 * A lazy xarray `DataArray` of a dataset (made by `Dataset.var(name)`), built step by step as in
 * xarray. Nothing runs until it is computed: `await mc.compute(expr)` at the site its dataset's
 * `location` names, or `await expr.computeOn(client)` on one cluster.
 *
 * `R` is what computing gives: `number` after a reduction over every dimension, else
 * {@link Computed} (an array, or a number when the steps leave no dimension).
 *
 * @example
 * ```ts
 * const flood = (await openDataset(url)).var("flood");
 * const area = flood.sum().mul(20 * 20).div(1000); // ArrayExpr<number>
 * const map = flood.isel({ time: -1 }).coarsen({ x: 25, y: 25 }, { boundary: "trim" }).median()
 *   .gt(0).astype("float32");
 * const [a, m] = await mc.computeAll([area, map]); // each at its dataset's site
 * ```
 */
export class ArrayExpr<R extends Computed = Computed> implements SiteComputation<R> {
  readonly #dims: Dims;

  /** @internal Made by `Dataset.var()` and by the steps. */
  constructor(
    /** The `py` graph node whose value is this lazy `DataArray` (the escape hatch). */
    readonly node: Node,
    dims: Dims,
    /**
     * Client-side attributes: the dataset's (`location`, `resolution`, …). They route the
     * computation (as `Node.attrs` do) and stay the same through every step.
     */
    readonly attrs: NodeAttrs,
    /** What this expression is, for messages: `flood of https://…/flood.zarr`. */
    readonly description: string,
  ) {
    this.#dims = dims;
  }

  /** Dimension names, in order. */
  get dims(): readonly string[] {
    return this.#dims.names;
  }

  /**
   * Length of each dimension where it is known on the client (`undefined` after steps whose
   * result length only the cluster knows, such as `sel` of a label range).
   */
  get shape(): readonly (number | undefined)[] {
    return this.#dims.shape;
  }

  /** The site named by the dataset's `location` attribute, if any. */
  get location(): string | undefined {
    const location = this.attrs[LOCATION];
    return typeof location === "string" && location !== "" ? location : undefined;
  }

  /**
   * The same expression with extra client-side attributes (merged over the current ones), e.g.
   * `withAttrs({ location: "lumi" })` to route it elsewhere.
   */
  withAttrs(attrs: Record<string, unknown>): ArrayExpr<R> {
    return new ArrayExpr(this.node, this.#dims, { ...this.attrs, ...attrs }, this.description);
  }

  // --- selection ---

  /** Selects by position: `isel({ time: -1 })`, `isel({ x: py.slice(0, 100) })`. */
  isel(indexers: Readonly<Record<string, Position>>): ArrayExpr {
    for (const [dim, v] of Object.entries(indexers)) {
      const ok = Number.isInteger(v) || isSlice(v) ||
        (Array.isArray(v) && v.every((i) => Number.isInteger(i)));
      if (!ok) {
        throw new InvalidExpression(
          `isel(): ${dim} takes an integer, py.slice(...) or a list of integers, got ${
            JSON.stringify(v)
          }`,
        );
      }
    }
    const dims = selectDims(this.#dims, indexers, true, "isel()");
    return this.#step(this.node.method("isel", { ...indexers }), dims);
  }

  /**
   * Selects by label: `sel({ lat: py.slice(31, 23) })`, `sel({ time: new Date(…) })`,
   * `sel({ lat: 30.2 }, { method: "nearest" })`.
   */
  sel(
    indexers: Readonly<Record<string, Label>>,
    options: { method?: "nearest" | "pad" | "ffill" | "backfill" | "bfill"; tolerance?: number } =
      {},
  ): ArrayExpr {
    const labels: Record<string, unknown> = {};
    for (const [dim, v] of Object.entries(indexers)) {
      labels[dim] = Array.isArray(v) ? v.map(label) : label(v as Label);
    }
    const dims = selectDims(this.#dims, labels, false, "sel()");
    const args: unknown[] = [labels];
    if (options.method !== undefined || options.tolerance !== undefined) {
      args.push(py.kwargs({ method: options.method, tolerance: options.tolerance }));
    }
    return this.#step(this.node.method("sel", ...args), dims);
  }

  /** Drops dimensions of length 1: the named ones, or all whose length is known to be 1. */
  squeeze(dim?: string | readonly string[]): ArrayExpr {
    let names = dim === undefined ? undefined : typeof dim === "string" ? [dim] : [...dim];
    if (names === undefined) {
      if (this.#dims.shape.some((n) => n === undefined)) {
        throw new InvalidExpression(
          "squeeze(): the lengths of some dimensions are only known on the cluster; name the " +
            `dimensions to drop (of ${this.dims.join(", ")})`,
        );
      }
      names = this.dims.filter((_, i) => this.#dims.shape[i] === 1);
    }
    checkDims(this.#dims, names, "squeeze()");
    return this.#step(this.node.method("squeeze", names), dropDims(this.#dims, names));
  }

  /** Renames the array (`rename("depth")`) or dimensions and coordinates (`{ old: "new" }`). */
  rename(name: string | Readonly<Record<string, string>>): ArrayExpr<R> {
    if (typeof name === "string") return this.#step(this.node.method("rename", name), this.#dims);
    return this.#step(this.node.method("rename", { ...name }), renameDims(this.#dims, name));
  }

  // --- reductions ---

  /** The sum over `dim` (a name or names), or over every dimension. */
  sum(): ArrayExpr<number>;
  /** The sum over `dim`. */
  sum(dim: string | readonly string[]): ArrayExpr;
  sum(dim?: string | readonly string[]): ArrayExpr {
    return this.#reduce("sum", dim);
  }

  /** The mean over `dim`, or over every dimension. */
  mean(): ArrayExpr<number>;
  /** The mean over `dim`. */
  mean(dim: string | readonly string[]): ArrayExpr;
  mean(dim?: string | readonly string[]): ArrayExpr {
    return this.#reduce("mean", dim);
  }

  /** The median over `dim`, or over every dimension. */
  median(): ArrayExpr<number>;
  /** The median over `dim`. */
  median(dim: string | readonly string[]): ArrayExpr;
  median(dim?: string | readonly string[]): ArrayExpr {
    return this.#reduce("median", dim);
  }

  /** The minimum over `dim`, or over every dimension. */
  min(): ArrayExpr<number>;
  /** The minimum over `dim`. */
  min(dim: string | readonly string[]): ArrayExpr;
  min(dim?: string | readonly string[]): ArrayExpr {
    return this.#reduce("min", dim);
  }

  /** The maximum over `dim`, or over every dimension. */
  max(): ArrayExpr<number>;
  /** The maximum over `dim`. */
  max(dim: string | readonly string[]): ArrayExpr;
  max(dim?: string | readonly string[]): ArrayExpr {
    return this.#reduce("max", dim);
  }

  /** The standard deviation over `dim` (or every dimension), with `ddof` (default 0). */
  std(): ArrayExpr<number>;
  /** The standard deviation over `dim`. */
  std(dim: string | readonly string[] | undefined, options?: { ddof?: number }): ArrayExpr;
  std(dim?: string | readonly string[], options: { ddof?: number } = {}): ArrayExpr {
    return this.#reduce("std", dim, options.ddof === undefined ? {} : { ddof: options.ddof });
  }

  /** The number of non-missing values over `dim`, or over every dimension. */
  count(): ArrayExpr<number>;
  /** The number of non-missing values over `dim`. */
  count(dim: string | readonly string[]): ArrayExpr;
  count(dim?: string | readonly string[]): ArrayExpr {
    return this.#reduce("count", dim);
  }

  /** The cumulative sum along `dim`. */
  cumsum(dim: string): ArrayExpr<R> {
    checkDims(this.#dims, [dim], "cumsum()");
    return this.#step(this.node.method("cumsum", dim), this.#dims);
  }

  /**
   * Windows of `windows` elements per dimension, to reduce: `coarsen({ x: 25, y: 25 },
   * { boundary: "trim" }).median()`. `boundary`: `"exact"` (default; lengths must be multiples),
   * `"trim"` (drop the rest) or `"pad"` (fill the last window with NaN).
   */
  coarsen(
    windows: Readonly<Record<string, number>>,
    options: { boundary?: "exact" | "trim" | "pad"; side?: "left" | "right" } = {},
  ): Reducer<ArrayExpr<R>> {
    const boundary = options.boundary ?? "exact";
    const dims = coarsenDims(this.#dims, windows, boundary);
    const node = this.node.method(
      "coarsen",
      { ...windows },
      py.kwargs({ boundary, side: options.side }),
    );
    return new Reducer(node, (reduced) => this.#step(reduced, dims));
  }

  /**
   * Groups of a time dimension by frequency, to reduce: `resample({ time: "1D" }).sum()`
   * (pandas frequency strings: `"1h"`, `"1D"`, `"1MS"`, …).
   */
  resample(frequency: Readonly<Record<string, string>>): Reducer<ArrayExpr> {
    const names = Object.keys(frequency);
    if (names.length !== 1) {
      throw new InvalidExpression('resample() takes one dimension, e.g. { time: "1D" }');
    }
    checkDims(this.#dims, names, "resample()");
    const dims = {
      names: this.#dims.names,
      shape: this.#dims.names.map((n, i) => n === names[0] ? undefined : this.#dims.shape[i]),
    };
    const node = this.node.method("resample", { ...frequency });
    return new Reducer(node, (reduced) => this.#step(reduced, dims));
  }

  /**
   * Groups by the values of a coordinate, to reduce: `groupby("time.month").mean()` (the result's
   * dimension is then `month`), `groupby("time").sum()`.
   */
  groupby(key: string): Reducer<ArrayExpr> {
    const [dim, component] = key.split(".", 2);
    checkDims(this.#dims, [dim], "groupby()");
    const result = component ?? dim;
    const dims = {
      names: this.#dims.names.map((n) => n === dim ? result : n),
      shape: this.#dims.names.map((n, i) => n === dim ? undefined : this.#dims.shape[i]),
    };
    return new Reducer(this.node.method("groupby", key), (reduced) => this.#step(reduced, dims));
  }

  // --- element-wise ---

  /** Keeps values where `cond` is true, else `other` (default NaN). */
  where(cond: ArrayExpr, other?: Operand): ArrayExpr<R> {
    if (!(cond instanceof ArrayExpr)) {
      throw new InvalidExpression("where() takes a condition expression, e.g. x.gt(0)");
    }
    let attrs = this.#combineAttrs(this.attrs, cond, "where()");
    const args: unknown[] = [cond.node];
    if (other !== undefined) args.push(this.#operand(other, "where()"));
    if (other instanceof ArrayExpr) attrs = this.#combineAttrs(attrs, other, "where()");
    return new ArrayExpr(this.node.method("where", ...args), this.#dims, attrs, this.description);
  }

  /** The values converted to a numpy dtype: `astype("float32")`. */
  astype(dtype: string): ArrayExpr<R> {
    if (!dtype) throw new InvalidExpression('astype() needs a dtype, e.g. "float32"');
    return this.#step(this.node.method("astype", dtype), this.#dims);
  }

  /** `this + other`. */
  add<O extends Operand>(other: O): ArrayExpr<O extends number ? R : Computed> {
    return this.#binary("__add__", other, "add()");
  }

  /** `this - other`. */
  sub<O extends Operand>(other: O): ArrayExpr<O extends number ? R : Computed> {
    return this.#binary("__sub__", other, "sub()");
  }

  /** `this * other`. */
  mul<O extends Operand>(other: O): ArrayExpr<O extends number ? R : Computed> {
    return this.#binary("__mul__", other, "mul()");
  }

  /** `this / other`. */
  div<O extends Operand>(other: O): ArrayExpr<O extends number ? R : Computed> {
    return this.#binary("__truediv__", other, "div()");
  }

  /** `this ** other`. */
  pow<O extends Operand>(other: O): ArrayExpr<O extends number ? R : Computed> {
    return this.#binary("__pow__", other, "pow()");
  }

  /** `this > other` (booleans). */
  gt<O extends Operand>(other: O): ArrayExpr<O extends number ? R : Computed> {
    return this.#binary("__gt__", other, "gt()");
  }

  /** `this >= other`. */
  ge<O extends Operand>(other: O): ArrayExpr<O extends number ? R : Computed> {
    return this.#binary("__ge__", other, "ge()");
  }

  /** `this < other`. */
  lt<O extends Operand>(other: O): ArrayExpr<O extends number ? R : Computed> {
    return this.#binary("__lt__", other, "lt()");
  }

  /** `this <= other`. */
  le<O extends Operand>(other: O): ArrayExpr<O extends number ? R : Computed> {
    return this.#binary("__le__", other, "le()");
  }

  /** `this == other`. */
  eq<O extends Operand>(other: O): ArrayExpr<O extends number ? R : Computed> {
    return this.#binary("__eq__", other, "eq()");
  }

  /** `this != other`. */
  ne<O extends Operand>(other: O): ArrayExpr<O extends number ? R : Computed> {
    return this.#binary("__ne__", other, "ne()");
  }

  /**
   * Any other `DataArray` method: `call("clip", 0, 1)`, `call("fillna", 0)`,
   * `call("rolling", py.kwargs({ time: 3 }))`. Arguments may be expressions (same location),
   * `py` values and `py.kwargs({...})`. The method must return a `DataArray`; its dimensions are
   * taken to be unchanged (the computed result carries the real ones).
   */
  call(method: string, ...args: unknown[]): ArrayExpr {
    if (!method) throw new InvalidExpression("call() needs a method name");
    let attrs = this.attrs;
    const converted = args.map((a) => {
      if (!(a instanceof ArrayExpr)) return a;
      attrs = this.#combineAttrs(attrs, a, `call("${method}")`);
      return a.node;
    });
    return new ArrayExpr(
      this.node.method(method, ...converted),
      this.#dims,
      attrs,
      this.description,
    );
  }

  // --- computing ---

  /**
   * Computes the expression on one cluster: every chunk is a task of its scheduler
   * (`client.computeCollection`), then the result is turned into plain data on a worker with
   * xarray's `DataArray.to_dict(data="array")` and brought here. `MultiCluster.compute(expr)`
   * calls this with the client of the expression's site. `onProgress` reports the chunk tasks.
   * @throws {RemoteError} when a step fails on the cluster (the store cannot be read, a label
   *   is missing, …).
   * @throws {UnexpectedResult} when the result is no `DataArray` of numeric values.
   */
  async computeOn(client: Client, options: ResultOptions & ProgressOptions = {}): Promise<R> {
    const computed = await client.computeCollection(py.collection(this.node), options);
    try {
      const asDict = client.compute(py.call(TO_DICT, computed, py.kwargs({ data: "array" })));
      try {
        return decodeComputed(await asDict.result(options), this.description) as R;
      } finally {
        asDict.release();
      }
    } finally {
      computed.release();
    }
  }

  #step<T extends Computed>(node: Node, dims: Dims): ArrayExpr<T> {
    return new ArrayExpr<T>(node, dims, this.attrs, this.description);
  }

  #reduce(
    name: string,
    dim: string | readonly string[] | undefined,
    kwargs: Record<string, unknown> = {},
  ): ArrayExpr {
    const names = dim === undefined ? [...this.dims] : typeof dim === "string" ? [dim] : [...dim];
    checkDims(this.#dims, names, `${name}()`);
    const args: unknown[] = dim === undefined ? [] : [typeof dim === "string" ? dim : names];
    if (Object.keys(kwargs).length > 0) args.push(py.kwargs(kwargs));
    return this.#step(this.node.method(name, ...args), dropDims(this.#dims, names));
  }

  #binary<T extends Computed>(pyName: string, other: Operand, step: string): ArrayExpr<T> {
    const operand = this.#operand(other, step);
    const attrs = other instanceof ArrayExpr
      ? this.#combineAttrs(this.attrs, other, step)
      : this.attrs;
    const dims = other instanceof ArrayExpr ? broadcastDims(this.#dims, other.#dims) : this.#dims;
    return new ArrayExpr<T>(this.node.method(pyName, operand), dims, attrs, this.description);
  }

  #operand(other: Operand, step: string): unknown {
    if (other instanceof ArrayExpr) return other.node;
    if (typeof other !== "number") {
      throw new InvalidExpression(`${step} takes a number or an expression, got ${typeof other}`);
    }
    return other;
  }

  /** `attrs` combined with those of `other`: the same site, or refused. */
  #combineAttrs(attrs: NodeAttrs, other: ArrayExpr, step: string): NodeAttrs {
    const mine = attrs[LOCATION];
    const theirs = other.location;
    if (typeof mine === "string" && mine !== "" && theirs !== undefined && mine !== theirs) {
      throw new LocationConflict(mine, theirs, step);
    }
    // As xarray's keep_attrs=True: the left operand's attributes; its location if it has one.
    return typeof mine === "string" && mine !== "" || theirs === undefined
      ? attrs
      : { ...attrs, [LOCATION]: theirs };
  }
}

/** xarray's broadcasting: the left operand's dimensions, then the right's new ones. */
function broadcastDims(left: Dims, right: Dims): Dims {
  const names = [...left.names];
  const shape = [...left.shape];
  right.names.forEach((n, i) => {
    const at = names.indexOf(n);
    if (at < 0) {
      names.push(n);
      shape.push(right.shape[i]);
    } else if (shape[at] !== right.shape[i]) {
      shape[at] = undefined; // aligned on the cluster (inner join): only it knows the length
    }
  });
  return { names, shape };
}

/** A label as xarray receives it: dates as ISO text without a zone (numpy's datetime64). */
function label(value: Label | number | string | Date): unknown {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new InvalidExpression("sel(): invalid Date label");
    return value.toISOString().slice(0, -1);
  }
  if (isSlice(value)) return value;
  if (typeof value === "number" || typeof value === "string") return value;
  throw new InvalidExpression(
    `sel() takes numbers, strings, Dates, py.slice(...) or lists of them, got ${
      JSON.stringify(value)
    }`,
  );
}
