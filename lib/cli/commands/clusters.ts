/**
 * `dedl-dask clusters` and `dedl-dask dashboard`: the current user's clusters across sites.
 * @module
 */
import { ClusterNotRunning, type ClusterReport } from "../../gateway/mod.ts";
import { booleanFlag, type Command, type CommandInput } from "../command_line/command.ts";
import { aboutCluster, type CommandSession, openSession } from "../session/command_session.ts";
import { ExitCode, firstExitCode } from "../output/exit_codes.ts";
import { SiteFailure } from "../errors.ts";
import { LOGIN_FLAGS } from "../session/command_login.ts";
import { Output, timestamp } from "../output/output.ts";
import { SITE_FLAGS } from "../session/site_source.ts";

/** One cluster at one site. */
export interface SiteCluster {
  readonly site: string;
  readonly report: ClusterReport;
}

/**
 * The active clusters (PENDING, RUNNING) of the user at every site of the session, and the
 * failures of the sites that could not say.
 */
export async function listSiteClusters(
  session: CommandSession,
): Promise<{ clusters: SiteCluster[]; failures: Error[] }> {
  const failures: Error[] = [...session.unavailable];
  const clusters: SiteCluster[] = [];
  for (const outcome of await session.mc.clusters()) {
    if (!outcome.ok) failures.push(new SiteFailure(outcome.site, outcome.error));
    else clusters.push(...outcome.value.map((report) => ({ site: outcome.site, report })));
  }
  return { clusters, failures };
}

/** Whether at least one site of the session could list its clusters. */
function answered(session: CommandSession, failures: readonly Error[]): boolean {
  return session.mc.status().length > failures.length;
}

/** `worker_cores=2 worker_memory=4 …`: a cluster's options on one line. */
function compactOptions(options: Readonly<Record<string, unknown>>): string {
  return Object.entries(options)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
}

/** The JSON form of a cluster (never its TLS key). */
export function clusterJson({ site, report }: SiteCluster) {
  return {
    site,
    name: report.name,
    status: report.status,
    startTime: report.startTime?.toISOString() ?? null,
    options: report.options,
    dashboardLink: report.dashboardLink,
  };
}

/** `dedl-dask clusters`. */
export const clustersCommand: Command = {
  name: "clusters",
  summary: "list your clusters at every site",
  usage: ["clusters [--only <site,…>]"],
  description:
    "Lists your pending and running clusters at every site, with their options. A site that\n" +
    "does not answer is reported on stderr (exit code 4) after the others are listed.",
  flags: { ...SITE_FLAGS, ...LOGIN_FLAGS },
  positionals: { min: 0, max: 0 },
  async run(input: CommandInput): Promise<number> {
    const out = new Output(booleanFlag(input, "json"), booleanFlag(input, "debug"));
    await using session = await openSession(input);
    const { clusters, failures } = await listSiteClusters(session);
    out.result(
      clusters.map(clusterJson),
      ["SITE", "NAME", "STATUS", "STARTED", "OPTIONS"],
      clusters.map(({ site, report }) => [
        site,
        report.name,
        report.status,
        timestamp(report.startTime),
        compactOptions(report.options),
      ]),
    );
    if (clusters.length === 0 && answered(session, failures)) out.line("No clusters.");
    for (const failure of failures) out.error(failure);
    return firstExitCode(failures);
  },
};

/** `dedl-dask dashboard`. */
export const dashboardCommand: Command = {
  name: "dashboard",
  summary: "show the dashboard links of your running clusters",
  usage: ["dashboard [<site> [<name>]]"],
  description:
    "Shows the Dask dashboard link of every running cluster (of one site, or one cluster).\n" +
    "For one cluster only the link is printed, e.g. for 'xdg-open $(dedl-dask dashboard …)'.",
  flags: { ...SITE_FLAGS, ...LOGIN_FLAGS },
  positionals: { min: 0, max: 2 },
  async run(input: CommandInput): Promise<number> {
    const out = new Output(booleanFlag(input, "json"), booleanFlag(input, "debug"));
    const [site, name] = input.positionals;
    await using session = await openSession(input, site ? { sites: [site] } : {});
    if (site && name) {
      if (session.unavailable.length > 0) throw session.unavailable[0];
      const gateway = session.mc.gateway(site);
      const report = await aboutCluster(site, name, () => gateway.getCluster(name));
      if (!report.dashboardLink) {
        throw new ClusterNotRunning(gateway.address, name, `status ${report.status}`);
      }
      if (out.json) out.data({ site, name, dashboardLink: report.dashboardLink });
      else out.line(report.dashboardLink);
      return ExitCode.ok;
    }
    const { clusters, failures } = await listSiteClusters(session);
    const running = clusters.filter((c) => c.report.dashboardLink);
    out.result(
      running.map(({ site, report }) => ({
        site,
        name: report.name,
        dashboardLink: report.dashboardLink,
      })),
      ["SITE", "NAME", "DASHBOARD"],
      running.map(({ site, report }) => [site, report.name, report.dashboardLink ?? "-"]),
    );
    if (running.length === 0 && answered(session, failures)) out.line("No running clusters.");
    for (const failure of failures) out.error(failure);
    return firstExitCode(failures);
  },
};
