/**
 * A pending reduction over windows or groups: what `coarsen(...)`, `resample(...)` and
 * `groupby(...)` return, as in xarray, until one of its reductions is chosen.
 * @module
 */
import type { Node } from "../../protocol/mod.ts";

/**
 * Windows or groups of an array, waiting for a reduction: `expr.coarsen({ x: 25 }).median()`,
 * `expr.resample({ time: "1D" }).sum()`, `expr.groupby("time.month").mean()`.
 */
export class Reducer<T> {
  readonly #node: Node;
  readonly #finish: (node: Node) => T;

  /** @internal Made by the expression methods. */
  constructor(
    /** The xarray `Coarsen`/`Resample`/`GroupBy` object. */
    node: Node,
    /** Wraps the reduced node into an expression. */
    finish: (node: Node) => T,
  ) {
    this.#node = node;
    this.#finish = finish;
  }

  /** The mean of each window or group. */
  mean(): T {
    return this.#reduce("mean");
  }

  /** The median of each window or group. */
  median(): T {
    return this.#reduce("median");
  }

  /** The sum of each window or group. */
  sum(): T {
    return this.#reduce("sum");
  }

  /** The minimum of each window or group. */
  min(): T {
    return this.#reduce("min");
  }

  /** The maximum of each window or group. */
  max(): T {
    return this.#reduce("max");
  }

  /** The standard deviation of each window or group. */
  std(): T {
    return this.#reduce("std");
  }

  /** The number of non-missing values in each window or group. */
  count(): T {
    return this.#reduce("count");
  }

  #reduce(name: string): T {
    return this.#finish(this.#node.method(name));
  }
}
