/**
 * How an {@link NDArray} shows in a notebook: small arrays (at most 50 values along an axis, 2-D
 * at most) as an HTML table of their values, anything else as a summary — dtype, shape and, for
 * numbers, the range and mean — with a plain-text fallback either way.
 * @module
 */
import { escapeHtml, htmlTable, type MimeBundle, textTable } from "../../base/mod.ts";
import type { NDArray } from "./numpy.ts";

/** Axes longer than this are summarised rather than tabulated. */
const MAX_TABLE_AXIS = 50;

/** The MIME bundle of `array`. */
export function ndarrayBundle(array: NDArray): MimeBundle {
  const title = `NDArray ${array.dtype} [${array.shape.join(" × ")}]`;
  if (array.ndim === 0) {
    const v = show(array.get());
    return {
      "text/plain": `${title} ${v}`,
      "text/html": `${escapeHtml(title)} <b>${escapeHtml(v)}</b>`,
    };
  }
  if (array.ndim <= 2 && array.shape.every((n) => n <= MAX_TABLE_AXIS)) {
    const rows = (array.ndim === 1 ? [array.toNested()] : array.toNested()) as unknown[][];
    const headers = ["", ...Array.from({ length: array.shape.at(-1)! }, (_, i) => String(i))];
    const cells = rows.map((r, i) => [array.ndim === 1 ? "" : String(i), ...r.map(show)]);
    return {
      "text/plain": `${title}\n${textTable(headers, cells)}`,
      "text/html": htmlTable(headers, cells.map((r) => r.map(escapeHtml)), title),
    };
  }
  const summary = `${title}: ${describe(array)}`;
  return { "text/plain": summary, "text/html": escapeHtml(summary) };
}

function describe(array: NDArray): string {
  if (!/^[<>|=]?[biuf]\d+$/.test(array.dtype)) return `${array.size} values`;
  let min = Infinity, max = -Infinity, sum = 0, n = 0, nan = 0;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    const x = typeof v === "boolean" ? Number(v) : Number(v);
    if (Number.isNaN(x)) {
      nan++;
      return;
    }
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
    n++;
  };
  walk(array.toNested());
  const range = n > 0 ? `min ${show(min)}, max ${show(max)}, mean ${show(sum / n)}` : "no numbers";
  return `${array.size} values, ${range}${nan ? `, ${nan} NaN` : ""}`;
}

function show(v: unknown): string {
  if (typeof v === "number") {
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  }
  return String(v);
}
