/**
 * A PNG quick-look of a computed 2-D array: values mapped through a colour map, missing values
 * (NaN) transparent, encoded with the npm package `fast-png` (loaded on first use).
 * @module
 */
import type { NDArray } from "../../protocol/mod.ts";
import type { ComputedArray } from "./computed_array.ts";
import { QuickLookFailed } from "./errors.ts";

/** The colour maps a quick-look can use. */
export type ColorMap = "viridis" | "blues" | "greys";

/** Settings of {@link quickLookPng}. */
export interface QuickLookOptions {
  /** Colour map. Default `"viridis"`. */
  readonly colorMap?: ColorMap;
  /** The value drawn with the map's first colour. Default: the smallest finite value. */
  readonly min?: number;
  /** The value drawn with the map's last colour. Default: the largest finite value. */
  readonly max?: number;
  /**
   * Where the first row of the array goes: `"upper"` (the top, default; right for a latitude
   * that decreases, as in DEDL's stores) or `"lower"` (the bottom), as matplotlib's `imshow`.
   */
  readonly origin?: "upper" | "lower";
}

/** Colour map anchors at equal steps from 0 to 1, interpolated linearly between. */
const ANCHORS: Record<ColorMap, readonly string[]> = {
  viridis: ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"],
  blues: ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"],
  greys: ["#ffffff", "#000000"],
};

/**
 * Draws a 2-D computed array (first dimension down, second across) as a PNG image, one pixel
 * per value; NaN (and values of masked points) are fully transparent.
 *
 * ```ts
 * const map = await mc.compute(floodMap.isel({ time: -1 }));
 * await Deno.writeFile("flood.png", await quickLookPng(map as ComputedArray, { colorMap: "blues" }));
 * ```
 * @throws {QuickLookFailed} when the array is not 2-D or its values are not numbers.
 */
export async function quickLookPng(
  array: ComputedArray,
  options: QuickLookOptions = {},
): Promise<Uint8Array> {
  const values = array.values;
  if (values.ndim !== 2) {
    throw new QuickLookFailed(
      `a quick-look needs a 2-D array; ${array.name ?? "this array"} has dimensions ` +
        `[${array.dims.join(", ")}] (select or reduce the others first, e.g. isel({ time: -1 }))`,
    );
  }
  const [height, width] = values.shape;
  const numbers = toNumbers(values, array.name);
  let lo = options.min ?? Infinity;
  let hi = options.max ?? -Infinity;
  if (options.min === undefined || options.max === undefined) {
    for (const v of numbers) {
      if (!Number.isFinite(v)) continue;
      if (options.min === undefined && v < lo) lo = v;
      if (options.max === undefined && v > hi) hi = v;
    }
  }
  const hex = ANCHORS[options.colorMap ?? "viridis"];
  if (!hex) throw new QuickLookFailed(`unknown colour map ${options.colorMap}`);
  const anchors = hex.map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
  const rgba = new Uint8Array(width * height * 4);
  const span = hi - lo;
  for (let row = 0; row < height; row++) {
    const target = options.origin === "lower" ? height - 1 - row : row;
    for (let col = 0; col < width; col++) {
      const v = numbers[row * width + col];
      const at = (target * width + col) * 4;
      if (Number.isNaN(v)) continue; // stays transparent black
      const t = span > 0 ? Math.min(1, Math.max(0, (v - lo) / span)) : 0;
      const [r, g, b] = colorAt(anchors, t);
      rgba[at] = r;
      rgba[at + 1] = g;
      rgba[at + 2] = b;
      rgba[at + 3] = 255;
    }
  }
  const { encode } = await import("npm:fast-png@8.0.0");
  return encode({ width, height, data: rgba, channels: 4, depth: 8 });
}

function colorAt(anchors: readonly number[][], t: number): [number, number, number] {
  const x = t * (anchors.length - 1);
  const i = Math.min(Math.floor(x), anchors.length - 2);
  const f = x - i;
  const [a, b] = [anchors[i], anchors[i + 1]];
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

/** The values in C order as numbers (booleans 0/1). */
function toNumbers(values: NDArray, name: string | null): Float64Array {
  if (!/^[<>|=]?[biuf]\d+$/.test(values.dtype)) {
    throw new QuickLookFailed(
      `${name ?? "the array"} has values of dtype ${values.dtype}; a quick-look draws numbers`,
    );
  }
  const nested = values.toNested() as unknown[][];
  const out = new Float64Array(values.size);
  let k = 0;
  for (const row of nested) {
    for (const v of row) out[k++] = typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
  }
  return out;
}
