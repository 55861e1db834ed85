/**
 * A gateway cluster as a notebook shows it, like Python's `GatewayCluster` widget: name,
 * status, workers, the options it runs with and a clickable dashboard link, with plain text as
 * fallback.
 * @module
 */
import {
  escapeHtml,
  htmlLink,
  htmlTable,
  type MimeBundle,
  textTable,
  withTimeout,
} from "../../base/mod.ts";
import type { GatewayCluster } from "./cluster.ts";

/** Bound on what a display asks the gateway and the scheduler. */
const DISPLAY_TIMEOUT_MS = 5_000;

/**
 * The cluster's current state (refreshed from the gateway) and, when running, its workers as
 * its scheduler counts them; what cannot be learnt in time shows as `?`.
 */
export async function clusterBundle(cluster: GatewayCluster): Promise<MimeBundle> {
  const bounded = <T>(p: Promise<T>) =>
    withTimeout(p, DISPLAY_TIMEOUT_MS, () => new Error("no answer in time"));
  await bounded(cluster.refresh()).catch(() => {});
  let workers = "-";
  if (cluster.status === "RUNNING") {
    workers = await bounded((async () => {
      await using client = await cluster.getClient({
        connectTimeoutMs: DISPLAY_TIMEOUT_MS,
        timeoutMs: DISPLAY_TIMEOUT_MS,
      });
      const all = Object.values((await client.identity()).workers);
      return `${all.length} (${all.reduce((n, w) => n + Number(w.nthreads), 0)} threads)`;
    })()).catch(() => "?");
  }
  const options = Object.entries(cluster.options)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ");
  const rows: [string, string, string][] = [
    ["name", cluster.name, `<code>${escapeHtml(cluster.name)}</code>`],
    ["gateway", cluster.gateway.address, htmlLink(cluster.gateway.address)],
    ["status", cluster.status, escapeHtml(cluster.status)],
    ["workers", workers, escapeHtml(workers)],
    ["options", options || "-", escapeHtml(options || "-")],
    [
      "dashboard",
      cluster.dashboardLink ?? "-",
      cluster.dashboardLink ? htmlLink(cluster.dashboardLink) : "-",
    ],
  ];
  return {
    "text/plain": `GatewayCluster\n${textTable(["", ""], rows.map(([k, t]) => [k, t]))}`,
    "text/html": htmlTable(["GatewayCluster", ""], rows.map(([k, , h]) => [escapeHtml(k), h])),
  };
}
