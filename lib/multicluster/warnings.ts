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

/** Every warning a {@link MultiCluster} reports. */
export type MultiClusterWarning =
  | ClientWarning
  | GatewayWarning
  | OrphanedClusters
  | JournalUnavailable;
