/**
 * `dedl-dask new`: a cluster at every chosen site, started in parallel, with the gateway's
 * cluster options given as flags.
 * @module
 */
import type { ClusterStatus, GatewayCluster } from "../../gateway/mod.ts";
import type { MultiNewClusterOptions } from "../../multicluster/mod.ts";
import { clusterOptionsFromFlags } from "../command_line/cluster_option_flags.ts";
import {
  booleanFlag,
  type Command,
  type CommandInput,
  parseCount,
  stringFlag,
} from "../command_line/command.ts";
import { openSession, stopClustersOnInterrupt } from "../session/command_session.ts";
import { InvalidCommandLine, SiteFailure } from "../errors.ts";
import { firstExitCode } from "../output/exit_codes.ts";
import { LOGIN_FLAGS } from "../session/command_login.ts";
import { Output } from "../output/output.ts";
import { SITE_FLAGS } from "../session/site_source.ts";
import { StatusLine } from "../output/status_line.ts";

/** `dedl-dask new`. */
export const newCommand: Command = {
  name: "new",
  summary: "start a cluster at every site (or --only some), in parallel",
  usage: [
    "new [--only <site,…>] [--reuse] [--min <n> --max <n> | --workers <n>] [--<option> <value>…]",
  ],
  description:
    "Starts one Dask cluster at every available site (or the --only ones) in parallel and\n" +
    "waits until each runs. Cluster options are flags named after the gateway's fields, e.g.\n" +
    "--worker-cores 2 --worker-memory 4 --image <image>; 'dedl-dask options <site>' lists them.\n" +
    "They are checked against every site's options before anything starts. Clusters keep\n" +
    "running after the command: see 'clusters', 'dashboard', and 'stop' them when done.\n" +
    "Ctrl-C while starting stops what was started. Scaling is adaptive between each site's\n" +
    "defaults (DEDL: 2..10 workers) unless --min/--max or --workers say otherwise.",
  flags: {
    ...SITE_FLAGS,
    reuse: {
      type: "boolean",
      help: "use a cluster already running at a site (the newest) instead of a new one",
    },
    min: { type: "string", value: "<n>", help: "adaptive scaling: fewest workers (default 0)" },
    max: { type: "string", value: "<n>", help: "adaptive scaling: most workers" },
    workers: {
      type: "string",
      value: "<n>",
      help: "a fixed number of workers instead of adaptive scaling",
    },
    "start-timeout": {
      type: "string",
      value: "<seconds>",
      help: "how long a cluster may take to start (default 300)",
    },
    ...LOGIN_FLAGS,
  },
  extraFlags: {
    help: "a cluster option, e.g. --worker-cores 2 (see 'dedl-dask options <site>')",
  },
  positionals: { min: 0, max: 0 },
  async run(input: CommandInput): Promise<number> {
    const out = new Output(booleanFlag(input, "json"), booleanFlag(input, "debug"));
    const scaling = scalingOf(input);
    const startTimeout = stringFlag(input, "start-timeout");
    const startTimeoutMs = startTimeout === undefined
      ? undefined
      : parseCount(startTimeout, "--start-timeout", "new") * 1000;

    await using session = await openSession(input);
    const { mc } = session;
    const sites = mc.availableSites;
    if (sites.length === 0) throw session.unavailable[0];

    // Every site's spec first: a wrong option must not leave clusters started at other sites.
    const specs = await Promise.all(sites.map(async (site) => {
      try {
        return await mc.gateway(site).clusterOptions();
      } catch (e) {
        throw new SiteFailure(site, e as Error);
      }
    }));
    const options = clusterOptionsFromFlags(input.extraFlags, specs[0], sites[0]);
    specs.forEach((spec, i) => {
      try {
        spec.validate(options);
      } catch (e) {
        throw new SiteFailure(sites[i], e as Error);
      }
    });

    const progress = new StartProgress(sites);
    let outcomes;
    {
      // Ctrl-C while they start stops them; once started, the clusters outlive the command.
      using _interrupt = stopClustersOnInterrupt(session);
      try {
        outcomes = await mc.newCluster(options, {
          sites,
          reuse: booleanFlag(input, "reuse"),
          adapt: scaling.adapt,
          ...(startTimeoutMs !== undefined ? { startTimeoutMs } : {}),
          onProgress: (site, event) => {
            if (event.kind === "status") progress.update(site, event.status);
          },
        });
      } finally {
        progress.done();
      }
    }

    const failures: Error[] = [...session.unavailable];
    const started: { site: string; cluster: GatewayCluster }[] = [];
    for (const outcome of outcomes) {
      if (!outcome.ok) failures.push(new SiteFailure(outcome.site, outcome.error));
      else started.push({ site: outcome.site, cluster: outcome.value });
    }
    await Promise.all(started.map(async ({ site, cluster }) => {
      // The clusters outlive this command; only its own scheduler connections end here.
      await mc.site(site).client.close().catch(() => {});
      if (scaling.workers !== undefined) {
        await cluster.scale(scaling.workers).catch((e) => {
          failures.push(new SiteFailure(site, e as Error));
        });
      }
    }));
    out.result(
      started.map(({ site, cluster }) => ({
        site,
        name: cluster.name,
        status: cluster.status,
        options: cluster.options,
        dashboardLink: cluster.dashboardLink,
      })),
      ["SITE", "NAME", "STATUS", "DASHBOARD"],
      started.map(({ site, cluster }) => [
        site,
        cluster.name,
        cluster.status,
        cluster.dashboardLink ?? "-",
      ]),
    );
    for (const failure of failures) out.error(failure);
    return firstExitCode(failures);
  },
};

/** The scaling asked for: adaptive bounds (default: the sites'), or a fixed worker count. */
function scalingOf(
  input: CommandInput,
): { adapt: MultiNewClusterOptions["adapt"]; workers?: number } {
  const count = (flag: string) => {
    const text = stringFlag(input, flag);
    return text === undefined ? undefined : parseCount(text, `--${flag}`, "new");
  };
  const min = count("min");
  const max = count("max");
  const workers = count("workers");
  if (workers !== undefined) {
    if (min !== undefined || max !== undefined) {
      throw new InvalidCommandLine("--workers and --min/--max exclude each other", "new");
    }
    return { adapt: false, workers };
  }
  if (min === undefined && max === undefined) return { adapt: undefined };
  if (max === undefined) throw new InvalidCommandLine("--min needs --max", "new");
  if ((min ?? 0) > max) throw new InvalidCommandLine(`--min ${min} is above --max ${max}`, "new");
  return { adapt: { minimum: min ?? 0, maximum: max } };
}

/** The spinner while clusters start: every site's last status and the time so far. */
class StartProgress {
  readonly #line = new StatusLine();
  readonly #status = new Map<string, ClusterStatus | "starting">();
  readonly #startedAt = Date.now();

  constructor(sites: readonly string[]) {
    for (const site of sites) this.#status.set(site, "starting");
    this.#line.set(() => {
      const seconds = Math.round((Date.now() - this.#startedAt) / 1000);
      const sites = [...this.#status].map(([site, status]) => `${site} ${status}`).join(" · ");
      return `starting clusters (${seconds} s): ${sites}`;
    });
  }

  update(site: string, status: ClusterStatus): void {
    this.#status.set(site, status);
  }

  done(): void {
    this.#line.clear();
  }
}
