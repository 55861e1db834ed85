/**
 * Aligned text tables for people: a header row and left-aligned columns separated by two spaces.
 * @module
 */

/**
 * Formats rows under headers, each column as wide as its widest cell (counted in code points, so
 * that names with accents stay aligned). Cells are single-line: line breaks become spaces.
 * Trailing spaces are dropped. Returns the lines without a final newline.
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const clean = (cell: string) => cell.replace(/\s*[\r\n]+\s*/g, " ");
  const all = [headers, ...rows].map((row) => headers.map((_, i) => clean(row[i] ?? "")));
  const widths = headers.map((_, i) => Math.max(...all.map((row) => [...row[i]].length)));
  return all
    .map((row) => row.map((cell, i) => cell + " ".repeat(widths[i] - [...cell].length)).join("  "))
    .map((line) => line.trimEnd())
    .join("\n");
}

/** Formats `name  value` lines with the values aligned, for one record. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  return formatTable(["", ""], fields).split("\n").slice(1).join("\n");
}
