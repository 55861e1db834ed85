/**
 * How a computed array shows in a notebook: a 2-D array as a quick-look image (the viridis
 * colour map, NaN transparent) under its name, dimensions and units; a 1-D array as a table of
 * its values beside its coordinate (the first and last 10 rows of longer ones); anything else as
 * a summary. Plain text always comes with it.
 * @module
 */
import {
  escapeHtml,
  htmlTable,
  JUPYTER_DISPLAY,
  type MimeBundle,
  textTable,
} from "../../base/mod.ts";
import type { NDArray } from "../../protocol/mod.ts";
import type { ComputedArray } from "./computed_array.ts";
import { quickLookPng } from "./quick_look.ts";

const EDGE_ROWS = 10;

/** `array` with a non-enumerable notebook display (JSON and equality unchanged). */
export function displayableComputed(array: ComputedArray): ComputedArray {
  Object.defineProperty(array, JUPYTER_DISPLAY, {
    value: () => computedBundle(array),
    enumerable: false,
  });
  return array;
}

/** The MIME bundle of a computed array. */
export async function computedBundle(array: ComputedArray): Promise<MimeBundle> {
  const units = typeof array.attrs.units === "string" ? ` (${array.attrs.units})` : "";
  const title = `${array.name ?? "array"}${units} [${
    array.dims.map((d, i) => `${d}: ${array.values.shape[i]}`).join(", ")
  }] ${array.values.dtype}`;
  if (array.values.ndim === 2) {
    try {
      const png = await quickLookPng(array);
      return {
        "text/plain": title,
        "text/html": `<div><div>${escapeHtml(title)}</div><img src="data:image/png;base64,${
          base64(png)
        }" style="image-rendering:pixelated;min-width:200px" alt="${escapeHtml(title)}"></div>`,
        "image/png": base64(png),
      };
    } catch {
      // Not numbers: the summary below.
    }
  }
  if (array.values.ndim === 1) {
    const dim = array.dims[0];
    const c = array.coords[dim]?.dims.length === 1 ? array.coords[dim].values : undefined;
    const coord = c === undefined
      ? undefined
      : Array.isArray(c)
      ? c
      : (c as NDArray).toNested() as unknown[];
    const values = array.values.toNested() as unknown[];
    const n = values.length;
    const index = n <= 2 * EDGE_ROWS ? values.map((_, i) => i) : [
      ...Array(EDGE_ROWS).keys(),
      -1,
      ...Array.from({ length: EDGE_ROWS }, (_, i) => n - EDGE_ROWS + i),
    ];
    const rows = index.map((i) =>
      i < 0 ? ["…", "…"] : [coord ? show(coord[i]) : String(i), show(values[i])]
    );
    const headers = [dim, array.name ?? "value"];
    return {
      "text/plain": `${title}\n${textTable(headers, rows)}`,
      "text/html": htmlTable(headers, rows.map((r) => r.map(escapeHtml)), title),
    };
  }
  return { "text/plain": title, "text/html": escapeHtml(title) };
}

function show(v: unknown): string {
  if (v instanceof Date) {
    return v.toISOString().replace(/T00:00:00\.000Z$/, "").replace(".000Z", "Z");
  }
  if (typeof v === "number" && !Number.isInteger(v)) return String(Number(v.toPrecision(6)));
  return String(v);
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
