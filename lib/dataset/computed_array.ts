/**
 * A computed expression as data: its values, dimensions, coordinates, attributes and name, read
 * from what xarray's `DataArray.to_dict(data="array")` gives on the cluster (numpy arrays travel
 * as such and arrive as {@link NDArray}s; nothing is executed here).
 * @module
 */
import { NDArray } from "../../protocol/mod.ts";
import type { CoordinateValues } from "./cf_decoding.ts";
import { UnexpectedResult } from "./errors.ts";
import { displayableComputed } from "./computed_display.ts";
import { datetime64ToDates, isDatetime64 } from "./time_values.ts";

/** One coordinate of a computed array. */
export interface ComputedCoordinate {
  /** Its dimensions (`[]` for a scalar coordinate, e.g. the time a map was selected at). */
  readonly dims: readonly string[];
  /** Its values: numbers, or `Date`s for times (flattened in C order; one for a scalar). */
  readonly values: CoordinateValues;
  /** Its attributes. */
  readonly attrs: Readonly<Record<string, unknown>>;
}

/** A computed array: what `MultiCluster.compute(expr)` resolves to unless the result is 0-d. */
export interface ComputedArray {
  /** The array's name (the variable's, unless renamed), `null` when it has none. */
  readonly name: string | null;
  /** The values, shaped by {@link dims}. */
  readonly values: NDArray;
  /** Dimension names, one per axis of {@link values}. */
  readonly dims: readonly string[];
  /** Coordinates by name. */
  readonly coords: Readonly<Record<string, ComputedCoordinate>>;
  /** The array's attributes as xarray kept them. */
  readonly attrs: Readonly<Record<string, unknown>>;
}

/**
 * Reads the cluster's `to_dict(data="array")` answer: a 0-d array becomes a number (int64 counts
 * exactly up to 2^53), anything else a {@link ComputedArray}.
 * @throws {UnexpectedResult} when the answer has another shape (e.g. a `call()` step whose
 *   result is no `DataArray`, or values of a dtype that cannot travel, such as strings objects).
 */
export function decodeComputed(answer: unknown, what: string): ComputedArray | number {
  const d = record(answer, what, "the result");
  const values = array(d.data, what, "its values");
  const dims = names(d.dims, what);
  if (values.ndim !== dims.length) {
    throw new UnexpectedResult(`${what}: ${values.ndim}-d values for dimensions [${dims}]`);
  }
  if (values.ndim === 0) return Number(values.get());
  const coords: Record<string, ComputedCoordinate> = {};
  for (const [name, raw] of entries(d.coords)) {
    const c = record(raw, what, `coordinate ${name}`);
    const v = array(c.data, what, `coordinate ${name}`);
    coords[name] = {
      dims: names(c.dims, what),
      values: isDatetime64(v) ? datetime64ToDates(v) : v,
      attrs: attrs(c.attrs),
    };
  }
  // In a notebook it shows as an image (2-D) or a table (1-D).
  return displayableComputed({
    name: typeof d.name === "string" ? d.name : null,
    values,
    dims,
    coords,
    attrs: attrs(d.attrs),
  });
}

function entries(value: unknown): [string, unknown][] {
  if (value instanceof Map) return [...value].map(([k, v]) => [String(k), v]);
  if (value && typeof value === "object") return Object.entries(value);
  return [];
}

function record(value: unknown, what: string, part: string): Record<string, unknown> {
  if (value instanceof Map) return Object.fromEntries(entries(value));
  if (value && typeof value === "object" && !Array.isArray(value) && !(value instanceof NDArray)) {
    return value as Record<string, unknown>;
  }
  throw new UnexpectedResult(
    `${what}: ${part} is not an xarray DataArray's dictionary; does every step keep a ` +
      "DataArray (call() steps included)?",
  );
}

function array(value: unknown, what: string, part: string): NDArray {
  if (value instanceof NDArray) return value;
  if (typeof value === "number") return NDArray.from(new Float64Array([value]), []);
  if (typeof value === "boolean") {
    return NDArray.from(new Uint8Array([value ? 1 : 0]), [], { dtype: "|b1" });
  }
  if (typeof value === "bigint") return NDArray.from(new BigInt64Array([value]), []);
  throw new UnexpectedResult(
    `${what}: ${part} did not arrive as a numeric array (got ${describe(value)}); convert them ` +
      'on the cluster, e.g. with .astype("float64")',
  );
}

function names(value: unknown, what: string): string[] {
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  throw new UnexpectedResult(`${what}: dimension names are not strings: ${describe(value)}`);
}

function attrs(value: unknown): Record<string, unknown> {
  return Object.fromEntries(entries(value));
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== "object") return typeof value;
  return (value as object).constructor?.name ?? "object";
}
