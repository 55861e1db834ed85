/**
 * Rich output in a Deno Jupyter notebook, shared by every layer: the symbol Deno's kernel looks
 * for on a cell's value (`Symbol.for("Jupyter.display")`, whose method returns a MIME bundle),
 * HTML escaping and a plain table, and showing or updating an output in place from code (only
 * inside a kernel; elsewhere nothing happens). Every bundle has a `text/plain` fallback.
 * @module
 */

/** The method a value implements to render itself in a Deno Jupyter notebook. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** What a display method returns: data by MIME type (`text/html`, `text/plain`, `image/png` in base64). */
export type MimeBundle = Record<string, string>;

/** A value that renders itself in a Deno Jupyter notebook. */
export interface Displayable {
  /** Its MIME bundle. */
  [JUPYTER_DISPLAY](): MimeBundle | Promise<MimeBundle>;
}

/** `text` with `& < > " '` escaped for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A link for HTML output: only `http(s)` addresses become links; anything else stays text. */
export function htmlLink(href: string | null | undefined, text: string = href ?? ""): string {
  if (!href || !/^https?:\/\//i.test(href)) return escapeHtml(text || "-");
  return `<a href="${escapeHtml(href)}" target="_blank" rel="noopener">${escapeHtml(text)}</a>`;
}

/** An HTML table; cells are HTML already (escape text with {@link escapeHtml}). */
export function htmlTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  caption?: string,
): string {
  const head = headers.map((h) => `<th style="text-align:left">${escapeHtml(h)}</th>`).join("");
  const body = rows.map((r) =>
    `<tr>${r.map((c) => `<td style="text-align:left">${c}</td>`).join("")}</tr>`
  )
    .join("");
  const cap = caption ? `<caption style="text-align:left">${escapeHtml(caption)}</caption>` : "";
  return `<table>${cap}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A plain-text table with aligned columns. */
export function textTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (c ?? "").padEnd(widths[i])).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/** What Deno's kernel offers as `Deno.jupyter` (only inside `deno jupyter`). */
interface JupyterApi {
  display(
    obj: unknown,
    options?: { raw?: boolean; update?: boolean; display_id?: string },
  ): Promise<void>;
}

/** Whether this process is a Deno Jupyter kernel. */
export function inJupyterKernel(): boolean {
  return jupyterApi() !== undefined;
}

function jupyterApi(): JupyterApi | undefined {
  try {
    // Outside `deno jupyter` reading it throws (Deno 2).
    const api = (Deno as unknown as { jupyter?: Partial<JupyterApi> }).jupyter;
    return typeof api?.display === "function" ? api as JupyterApi : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Shows `bundle` as a notebook output with id `displayId`, or replaces that output's content
 * when `update` is true. Outside a Jupyter kernel it does nothing; a failed display never throws
 * (a notebook's display must not fail the work it shows).
 */
export async function showInNotebook(
  bundle: MimeBundle,
  displayId: string,
  update: boolean,
): Promise<void> {
  const api = jupyterApi();
  if (!api) return;
  try {
    await api.display(bundle, { raw: true, display_id: displayId, update });
  } catch {
    // The frontend may have gone away; the computation goes on.
  }
}
