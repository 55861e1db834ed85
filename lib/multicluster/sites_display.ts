/**
 * The sites as a notebook shows them, like Python's cluster widget: a table with each site's
 * status, its cluster, the cluster's workers and a clickable dashboard link, with a plain-text
 * table as fallback.
 * @module
 */
import {
  escapeHtml,
  htmlLink,
  htmlTable,
  JUPYTER_DISPLAY,
  type MimeBundle,
  textTable,
  withTimeout,
} from "../../base/mod.ts";
import type { Client } from "../../protocol/mod.ts";
import type { SiteStatus } from "./multi_cluster.ts";

/** What a cluster's scheduler says of its workers. */
export interface WorkerSummary {
  readonly workers: number;
  readonly threads: number;
  /** Memory of all workers in bytes. */
  readonly memoryBytes: number;
}

const HEADERS = ["site", "name", "status", "cluster", "workers", "dashboard"];

/** The table of `sites`; `workers` by site id when known. */
export function sitesBundle(
  sites: readonly SiteStatus[],
  workers: ReadonlyMap<string, WorkerSummary | Error> = new Map(),
): MimeBundle {
  const status = (s: SiteStatus) =>
    s.available
      ? (s.error ? `up, cluster failed: ${s.error}` : `up (dask-gateway ${s.version ?? "?"})`)
      : `down: ${s.error ?? "no answer"}`;
  const workersOf = (s: SiteStatus) => {
    const w = workers.get(s.site);
    if (!s.cluster || !w) return "-";
    if (w instanceof Error) return "?";
    return `${w.workers} (${w.threads} threads, ${gib(w.memoryBytes)})`;
  };
  const text = textTable(
    HEADERS,
    sites.map((s) => [
      s.site,
      s.name,
      status(s),
      s.cluster ?? "-",
      workersOf(s),
      s.dashboardLink ?? "-",
    ]),
  );
  const html = htmlTable(
    HEADERS,
    sites.map((s) => [
      `<b>${escapeHtml(s.site)}</b>`,
      escapeHtml(s.name),
      s.available
        ? escapeHtml(status(s))
        : `<span style="color:#c62828">${escapeHtml(status(s))}</span>`,
      s.cluster ? `<code>${escapeHtml(s.cluster)}</code>` : "-",
      escapeHtml(workersOf(s)),
      s.dashboardLink ? htmlLink(s.dashboardLink, "dashboard") : "-",
    ]),
    "DEDL sites",
  );
  return { "text/plain": text, "text/html": html };
}

/** `list` with a non-enumerable notebook display of its sites (JSON and equality unchanged). */
export function displayableSites(list: SiteStatus[]): SiteStatus[] {
  Object.defineProperty(list, JUPYTER_DISPLAY, {
    value: () => sitesBundle(list),
    enumerable: false,
  });
  return list;
}

/** The workers of a cluster, from its scheduler (bounded: a display must not hang). */
export async function workerSummary(client: Client, timeoutMs = 5_000): Promise<WorkerSummary> {
  const info = await withTimeout(
    client.identity(),
    timeoutMs,
    () => new Error(`the scheduler did not answer within ${timeoutMs} ms`),
  );
  const all = Object.values(info.workers);
  return {
    workers: all.length,
    threads: all.reduce((n, w) => n + Number(w.nthreads ?? 0), 0),
    memoryBytes: all.reduce((n, w) => n + Number(w.memory_limit ?? 0), 0),
  };
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}
