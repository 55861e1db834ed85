/**
 * Warnings of the multi-site layer, reported through `MultiClusterOptions.onWarning` with the
 * site they concern (together with the warnings of each site's scheduler connection). The
 * library prints nothing itself.
 * @module
 */
import type { ClientWarning } from "../../protocol/mod.ts";
import type { GatewayWarning } from "../gateway/mod.ts";
import type { JournalEntry } from "./cluster_journal.ts";

/**
 * Clusters of this account at a site that a process of this machine started and that nobody
 * will stop: the process is gone (killed, crashed). They cost the site's resources until they
 * are stopped: `mc.stopOrphans()` or `dedl-dask stop --orphans`.
 */
export class OrphanedClusters {
  /** Stable identifier of this warning kind. */
  readonly code = "ORPHANED_CLUSTERS";
  /** What to show. */
  readonly message: string;

  /** Creates the warning for one site's orphans. */
  constructor(
    /** The site. */
    readonly site: string,
    /** The clusters, as the journal recorded them. */
    readonly clusters: readonly JournalEntry[],
  ) {
    const list = clusters.map((c) => `${c.name} (process ${c.pid}, started ${c.startedAt})`);
    this.message = `${clusters.length} cluster(s) at ${site} were started by processes that are ` +
      `gone and still run: ${list.join(", ")}; stop them with mc.stopOrphans() or ` +
      "`dedl-dask stop --orphans`";
  }
}

/**
 * A cluster could not be written to the local journal (e.g. the program may not write files:
 * `--allow-write`). It is stopped as usual by this process; only if the process is killed, it
 * will not be found as an orphan later.
 */
export class JournalUnavailable {
  /** Stable identifier of this warning kind. */
  readonly code = "JOURNAL_UNAVAILABLE";
  /** What to show. */
  readonly message: string;

  /** Creates the warning; `reason` is why the journal could not be written. */
  constructor(
    /** The journal's folder. */
    readonly dir: string,
    reason: string,
  ) {
    this.message = `clusters started now cannot be recorded in ${dir} (${reason}); if this ` +
      "process is killed, they will not be found as orphans later";
  }
}

/**
 * The connection to a site's scheduler was lost (a network cut, a laptop that slept) while its
 * cluster kept running, and a new one was made for the call that found it lost. Work that was
 * under way on the old connection failed with `ConnectionLost` and is not resumed; results it
 * held on the cluster were released. Like Python's client after a reconnect, compute it again.
 */
export class ClientReconnected {
  /** Stable identifier of this warning kind. */
  readonly code = "CLIENT_RECONNECTED";
  /** What to show. */
  readonly message: string;

  /** Creates the warning for one site's new connection. */
  constructor(
    /** The site. */
    readonly site: string,
    /** The cluster, still the same. */
    readonly cluster: string,
  ) {
    this.message = `the connection to cluster ${cluster} at ${site} was lost and has been made ` +
      "again; work under way then failed (ConnectionLost) and must be computed again";
  }
}

/** Every warning a {@link MultiCluster} reports. */
export type MultiClusterWarning =
  | ClientWarning
  | GatewayWarning
  | OrphanedClusters
  | JournalUnavailable
  | ClientReconnected;
