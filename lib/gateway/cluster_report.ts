/**
 * A cluster as the gateway reports it (`GET /api/v1/clusters/<name>`), with the addresses the
 * client derives from it: the scheduler behind the proxy and the dashboard link.
 * @module
 */
import { isPlainObject } from "../../base/mod.ts";
import type { TlsMaterial } from "../../protocol/internal.ts";
import { clusterSchedulerAddress, type GatewayEndpoints } from "./address.ts";
import { UnexpectedResponse } from "./errors.ts";

/** Lifecycle states of a gateway cluster. */
export type ClusterStatus = "PENDING" | "RUNNING" | "STOPPING" | "STOPPED" | "FAILED";

/** All cluster states, in lifecycle order. */
export const CLUSTER_STATUSES: readonly ClusterStatus[] = [
  "PENDING",
  "RUNNING",
  "STOPPING",
  "STOPPED",
  "FAILED",
];

/**
 * One cluster's state. The cluster's TLS key is kept private (it is the credential for the
 * scheduler), so printing a report does not show it.
 */
export class ClusterReport {
  readonly #tls: TlsMaterial | null;

  private constructor(
    /** The cluster's name (a uuid hex; `<namespace>.<uuid>` on Kubernetes gateways). */
    readonly name: string,
    /** The status at the time of the report. */
    readonly status: ClusterStatus,
    /** The options the cluster runs with, defaults filled in by the gateway. */
    readonly options: Readonly<Record<string, unknown>>,
    /** When the cluster was submitted. */
    readonly startTime: Date | null,
    /** When it stopped, or `null`. */
    readonly stopTime: Date | null,
    /** The dashboard URL through the gateway, or `null` unless RUNNING. */
    readonly dashboardLink: string | null,
    /** `gateway://proxyhost:port/<name>`, or `null` unless RUNNING. */
    readonly schedulerAddress: string | null,
    tls: TlsMaterial | null,
  ) {
    this.#tls = tls;
  }

  /**
   * Reads one cluster's JSON.
   * @throws {UnexpectedResponse} when it is not a cluster report.
   */
  static fromJson(body: unknown, endpoints: GatewayEndpoints, url: string): ClusterReport {
    const bad = (what: string) =>
      new UnexpectedResponse(url, 200, `the cluster report is malformed: ${what}`);
    if (!isPlainObject(body)) throw bad("not an object");
    const c = body;
    if (typeof c.name !== "string" || !c.name) throw bad("no name");
    const status = c.status as ClusterStatus;
    if (!CLUSTER_STATUSES.includes(status)) throw bad(`unknown status ${JSON.stringify(status)}`);
    const options = c.options ?? {};
    if (!isPlainObject(options)) throw bad("options not an object");
    const running = status === "RUNNING";
    const route = typeof c.dashboard_route === "string" ? c.dashboard_route : null;
    const cert = typeof c.tls_cert === "string" ? c.tls_cert : null;
    const key = typeof c.tls_key === "string" ? c.tls_key : null;
    return new ClusterReport(
      c.name,
      status,
      options as Record<string, unknown>,
      epochMs(c.start_time),
      epochMs(c.stop_time),
      route === null ? null : endpoints.apiUrl + (route.startsWith("/") ? route : `/${route}`),
      running ? clusterSchedulerAddress(endpoints, c.name) : null,
      cert && key ? { ca: cert, cert, key } : null,
    );
  }

  /**
   * The TLS material for the scheduler connection: the cluster's own certificate is the only
   * trusted CA and also the client certificate. `null` unless the cluster is RUNNING.
   */
  tlsMaterial(): TlsMaterial | null {
    return this.#tls;
  }
}

function epochMs(value: unknown): Date | null {
  return typeof value === "number" && Number.isFinite(value) ? new Date(value) : null;
}
