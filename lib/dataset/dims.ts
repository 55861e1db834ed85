/**
 * How each expression step changes an array's dimensions and, where it can be known here, their
 * lengths (`undefined` when only the cluster knows, e.g. after selecting a label range).
 * @module
 */
import { PyCall, PyGlobal } from "../../protocol/mod.ts";
import { InvalidExpression, UnknownDimension } from "./errors.ts";

/** Dimensions and their lengths (`undefined` = not known on the client). */
export interface Dims {
  /** Dimension names, in order. */
  readonly names: readonly string[];
  /** Length of each dimension, aligned with {@link names}. */
  readonly shape: readonly (number | undefined)[];
}

/** Whether a value is a `py.slice(...)`. */
export function isSlice(value: unknown): value is PyCall {
  return value instanceof PyCall && value.fn instanceof PyGlobal &&
    value.fn.module === "builtins" && value.fn.qualname === "slice";
}

/** Throws {@link UnknownDimension} unless every name is a dimension. */
export function checkDims(dims: Dims, names: readonly string[], step: string): void {
  for (const name of names) {
    if (!dims.names.includes(name)) throw new UnknownDimension(name, dims.names, step);
  }
}

/** Without the named dimensions (a reduction over them, or a scalar selection). */
export function dropDims(dims: Dims, names: readonly string[]): Dims {
  const keep = dims.names.map((n, i) => [n, dims.shape[i]] as const)
    .filter(([n]) => !names.includes(n));
  return { names: keep.map(([n]) => n), shape: keep.map(([, s]) => s) };
}

/** With new lengths for some dimensions. */
export function resizeDims(dims: Dims, sizes: Record<string, number | undefined>): Dims {
  return {
    names: dims.names,
    shape: dims.names.map((n, i) => n in sizes ? sizes[n] : dims.shape[i]),
  };
}

/** With dimensions renamed (`{ old: new }`). */
export function renameDims(dims: Dims, names: Readonly<Record<string, string>>): Dims {
  return { names: dims.names.map((n) => names[n] ?? n), shape: dims.shape };
}

/**
 * The dimensions after `isel` (positions) or `sel` (labels): a scalar drops its dimension, a
 * list keeps it with the list's length, a slice keeps it (its length is computed for positions
 * when the dimension's length is known).
 */
export function selectDims(
  dims: Dims,
  indexers: Readonly<Record<string, unknown>>,
  positional: boolean,
  step: string,
): Dims {
  checkDims(dims, Object.keys(indexers), step);
  const dropped: string[] = [];
  const sizes: Record<string, number | undefined> = {};
  for (const [name, value] of Object.entries(indexers)) {
    if (isSlice(value)) {
      const length = dims.shape[dims.names.indexOf(name)];
      sizes[name] = positional && length !== undefined ? sliceLength(value, length) : undefined;
    } else if (Array.isArray(value)) {
      sizes[name] = value.length;
    } else {
      dropped.push(name);
    }
  }
  return dropDims(resizeDims(dims, sizes), dropped);
}

/** Python's `len(range(n)[slice])` for integer slice bounds; `undefined` otherwise. */
function sliceLength(slice: PyCall, n: number): number | undefined {
  const [start, stop, step] = slice.args;
  for (const v of [start, stop, step]) {
    if (v !== null && !Number.isInteger(v)) return undefined;
  }
  const s = (step as number | null) ?? 1;
  if (s === 0) throw new InvalidExpression("isel(): a slice step cannot be zero");
  const clamp = (v: number | null, fallback: number, lo: number, hi: number) => {
    if (v === null) return fallback;
    const x = v < 0 ? v + n : v;
    return Math.min(Math.max(x, lo), hi);
  };
  if (s > 0) {
    const a = clamp(start as number | null, 0, 0, n);
    const b = clamp(stop as number | null, n, 0, n);
    return Math.max(0, Math.ceil((b - a) / s));
  }
  const a = clamp(start as number | null, n - 1, -1, n - 1);
  const b = clamp(stop as number | null, -1, -1, n - 1);
  return Math.max(0, Math.ceil((b - a) / s));
}

/** The dimensions after `coarsen(windows, { boundary })` and a reduction. */
export function coarsenDims(
  dims: Dims,
  windows: Readonly<Record<string, number>>,
  boundary: "exact" | "trim" | "pad",
): Dims {
  checkDims(dims, Object.keys(windows), "coarsen()");
  const sizes: Record<string, number | undefined> = {};
  for (const [name, window] of Object.entries(windows)) {
    if (!Number.isInteger(window) || window < 1) {
      throw new InvalidExpression(
        `coarsen(): the window of ${
          JSON.stringify(name)
        } must be a positive integer, got ${window}`,
      );
    }
    const n = dims.shape[dims.names.indexOf(name)];
    if (n === undefined) {
      sizes[name] = undefined;
    } else if (boundary === "exact" && n % window !== 0) {
      throw new InvalidExpression(
        `coarsen(): ${JSON.stringify(name)} has length ${n}, not a multiple of ${window}; ` +
          'pass { boundary: "trim" } or { boundary: "pad" }',
      );
    } else {
      sizes[name] = boundary === "pad" ? Math.ceil(n / window) : Math.floor(n / window);
    }
  }
  return resizeDims(dims, sizes);
}
