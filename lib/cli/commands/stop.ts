/**
 * `dedl-dask stop`: stop one cluster, all of the user's clusters at every site, or the clusters
 * that processes of this machine left running when they died (the journal's orphans).
 * @module
 */
import type { ClusterStatus } from "../../gateway/mod.ts";
import { booleanFlag, type Command, type CommandInput } from "../command_line/command.ts";
import { aboutCluster, openSession } from "../session/command_session.ts";
import { listSiteClusters } from "./clusters.ts";
import { InvalidCommandLine, SiteFailure } from "../errors.ts";
import { firstExitCode } from "../output/exit_codes.ts";
import { LOGIN_FLAGS } from "../session/command_login.ts";
import { Output } from "../output/output.ts";
import { SITE_FLAGS } from "../session/site_source.ts";
import { StatusLine } from "../output/status_line.ts";

/** `dedl-dask stop`. */
export const stopCommand: Command = {
  name: "stop",
  summary: "stop a cluster, or all your clusters (--all)",
  usage: ["stop <site> <name>", "stop --all [--only <site,…>]", "stop --orphans"],
  description:
    "Stops the cluster and waits until its site reports it stopped. With --all, stops every\n" +
    "pending or running cluster of yours at every site (or the --only ones), in parallel.\n" +
    "With --orphans, stops the clusters that processes of this machine started and left\n" +
    "running when they were killed (found in the local journal, ~/.cache/dedl-dask/clusters).",
  flags: {
    all: { type: "boolean", help: "stop all your clusters at every site" },
    orphans: { type: "boolean", help: "stop clusters left by processes that are gone" },
    ...SITE_FLAGS,
    ...LOGIN_FLAGS,
  },
  positionals: { min: 0, max: 2 },
  async run(input: CommandInput): Promise<number> {
    const out = new Output(booleanFlag(input, "json"), booleanFlag(input, "debug"));
    const all = booleanFlag(input, "all");
    const orphans = booleanFlag(input, "orphans");
    const [site, name] = input.positionals;
    if (all && orphans) throw new InvalidCommandLine("choose --all or --orphans", "stop");
    if ((all || orphans) && site) {
      throw new InvalidCommandLine(
        `--${all ? "all" : "orphans"} takes no site or name; choose sites with --only`,
        "stop",
      );
    }
    if (!all && !orphans && !name) {
      throw new InvalidCommandLine("'stop' needs <site> <name>, --all or --orphans", "stop");
    }

    await using session = await openSession(input, all || orphans ? {} : { sites: [site] });
    const failures: Error[] = [];
    let targets: { site: string; name: string }[];
    if (orphans) {
      targets = [];
    } else if (all) {
      const listed = await listSiteClusters(session);
      failures.push(...listed.failures);
      targets = listed.clusters.map((c) => ({ site: c.site, name: c.report.name }));
    } else {
      if (session.unavailable.length > 0) throw session.unavailable[0];
      // Stopping an unknown cluster is no error for the gateway; a typo should be one here.
      await aboutCluster(site, name, () => session.mc.gateway(site).getCluster(name));
      targets = [{ site, name }];
    }

    const status = new StatusLine();
    const count = orphans ? session.mc.orphans().length : targets.length;
    status.set(`stopping ${count} cluster${count === 1 ? "" : "s"}…`);
    const stopped: { site: string; name: string; status: ClusterStatus }[] = [];
    try {
      if (orphans) {
        for (const o of await session.mc.stopOrphans()) {
          if (o.ok) stopped.push({ site: o.site, ...o.value });
          else failures.push(new SiteFailure(o.site, o.error));
        }
      }
      await Promise.all(targets.map(async (t) => {
        try {
          stopped.push({ ...t, status: await session.mc.gateway(t.site).stopCluster(t.name) });
        } catch (e) {
          failures.push(new SiteFailure(t.site, e as Error));
        }
      }));
    } finally {
      status.clear();
    }
    out.result(
      stopped,
      ["SITE", "NAME", "STATUS"],
      stopped.map((s) => [s.site, s.name, s.status]),
    );
    if ((all || orphans) && stopped.length === 0 && failures.length === 0) {
      out.line(orphans ? "No orphaned clusters." : "No clusters to stop.");
    }
    for (const failure of failures) out.error(failure);
    return firstExitCode(failures);
  },
};
