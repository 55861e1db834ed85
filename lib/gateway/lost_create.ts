/**
 * A create request whose answer is lost: the gateway may have created a cluster that nobody
 * knows the name of, so nothing would ever stop it. The client lists the user's clusters just
 * before each create; when the request fails in a way where the gateway may have acted (no answer
 * in time, the connection cut after sending, an answer that cannot be read), it lists them again
 * and looks at what is new. Exactly one new cluster that nothing else claims, with the options
 * asked for, is the one the request created: it is stopped. Several are reported, never stopped:
 * another session of the same account may have started one meanwhile.
 * @module
 */
import { sleep } from "../../base/mod.ts";
import { answerMayBeLost } from "./api_client.ts";
import type { ClusterReport, ClusterStatus } from "./cluster_report.ts";
import {
  CreateAnswerLost,
  GatewayUnavailable,
  type LostCreateFindings,
  UnexpectedResponse,
} from "./errors.ts";
import type { ClusterOptionValues } from "./options.ts";

/** Budget of each call of the check (the list before, the list after, the stop). */
const CHECK_TIMEOUT_MS = 10_000;
/** Lists after the first when it shows nothing new, and the pause before each. */
const RELISTS = 2;
const RELIST_PAUSE_MS = 1_000;

/**
 * Clusters of this account that appeared at a gateway while the answer to a create request was
 * lost, and that keep running: the one the request created when it could not be stopped
 * (`ours`), or several of which one may belong to another session of the account. Stop those
 * not in use: `gateway.stopCluster(name)` or `dedl-dask stop <site> <name>`.
 */
export class PossibleOrphans {
  /** Stable identifier of this warning kind. */
  readonly code = "POSSIBLE_ORPHANS";
  /** What to show. */
  readonly message: string;

  /** Creates the warning for clusters at the gateway at `address`. */
  constructor(
    /** The gateway's API address. */
    readonly address: string,
    /** The clusters' names. */
    readonly clusters: readonly string[],
    /** `true`: the one cluster is the lost request's, and stopping it failed for `reason`. */
    readonly ours: boolean,
    reason?: string,
  ) {
    const list = clusters.join(", ");
    this.message = ours
      ? `cluster ${list} at ${address} was created by a request whose answer was lost and could ` +
        `not be stopped (${reason ?? "no answer"}); stop it with stopCluster("${list}") or ` +
        `\`dedl-dask stop <site> ${list}\``
      : `clusters ${list} appeared at ${address} while the answer to a create request was lost; ` +
        "one of them may run unused: stop those not in use with stopCluster(name) or " +
        "`dedl-dask stop <site> <name>`";
  }
}

/** What the check needs of a gateway client. */
export interface CheckedGateway {
  readonly address: string;
  listClusters(options: { readonly timeoutMs?: number }): Promise<ClusterReport[]>;
  stopCluster(name: string, options: { readonly timeoutMs?: number }): Promise<ClusterStatus>;
}

/** Settings of one {@link CreateWatch}. */
export interface CreateWatchOptions {
  /** The options sent with the create request. */
  readonly options: ClusterOptionValues;
  /** Whether a live program already tracks a cluster (see `NewClusterOptions.isTracked`). */
  readonly isTracked?: (name: string) => boolean | Promise<boolean>;
  /** Receives {@link PossibleOrphans}. */
  readonly onWarning?: (warning: PossibleOrphans) => void;
  /** The gateway client's budget per call; each call of the check takes at most 10 s of it. */
  readonly timeoutMs?: number;
}

/**
 * Names that creates of this process were given, per gateway address, kept while another create
 * at that address is under way: such a cluster is never taken for the lost one.
 */
const watches = new Set<CreateWatch>();

/** Watches one create request, so that a lost answer can be checked. Dispose when it ended. */
export class CreateWatch implements Disposable {
  readonly #named = new Set<string>();

  private constructor(
    private readonly gateway: CheckedGateway,
    /** The active clusters before the request, or `undefined` when they could not be listed. */
    private readonly before: ReadonlySet<string> | undefined,
    private readonly settings: CreateWatchOptions,
  ) {}

  /**
   * Lists the user's active clusters at `gateway` (bounded) and starts watching. A list that
   * fails only leaves the create without the check.
   */
  static async start(gateway: CheckedGateway, settings: CreateWatchOptions): Promise<CreateWatch> {
    let before: Set<string> | undefined;
    try {
      const listed = await gateway.listClusters({ timeoutMs: timeout(settings) });
      before = new Set(listed.map((c) => c.name));
    } catch {
      before = undefined;
    }
    const watch = new CreateWatch(gateway, before, settings);
    watches.add(watch);
    return watch;
  }

  /** The request was answered with `name`: other creates at this gateway will not claim it. */
  created(name: string): void {
    for (const other of watches) {
      if (other !== this && other.gateway.address === this.gateway.address) other.#named.add(name);
    }
  }

  /**
   * The error to throw for the create request's `failure`: `failure` itself when the gateway
   * cannot have acted (or there is no list to compare with), else a {@link CreateAnswerLost}
   * saying what the check found and did.
   */
  async failed(failure: unknown): Promise<unknown> {
    if (!this.before || !mayHaveCreated(failure)) return failure;
    const reason = failureReason(failure);
    const found = (f: Partial<LostCreateFindings>) =>
      new CreateAnswerLost(this.gateway.address, reason, {
        stopped: null,
        unstopped: null,
        possibleOrphans: [],
        checked: true,
        ...f,
      }, { cause: failure });
    let fresh: ClusterReport[];
    try {
      fresh = await this.#fresh();
      // A Kubernetes gateway lists from a cache that learns of a new cluster a moment later.
      for (let i = 0; i < RELISTS && fresh.length === 0; i++) {
        await sleep(RELIST_PAUSE_MS);
        fresh = await this.#fresh();
      }
    } catch {
      return found({ checked: false });
    }
    if (fresh.length === 1 && asked(fresh[0], this.settings.options)) {
      const name = fresh[0].name;
      try {
        await this.gateway.stopCluster(name, { timeoutMs: timeout(this.settings) });
        return found({ stopped: name });
      } catch (e) {
        this.settings.onWarning?.(
          new PossibleOrphans(this.gateway.address, [name], true, (e as Error)?.message),
        );
        return found({ unstopped: name });
      }
    }
    if (fresh.length > 0) {
      const names = fresh.map((c) => c.name);
      this.settings.onWarning?.(new PossibleOrphans(this.gateway.address, names, false));
      return found({ possibleOrphans: names });
    }
    return found({});
  }

  /** The clusters listed now that were not before, and that nothing else claims. */
  async #fresh(): Promise<ClusterReport[]> {
    const after = await this.gateway.listClusters({ timeoutMs: timeout(this.settings) });
    const fresh: ClusterReport[] = [];
    for (const c of after) {
      if (this.before!.has(c.name) || this.#named.has(c.name)) continue;
      if (await this.#tracked(c.name)) continue;
      fresh.push(c);
    }
    return fresh;
  }

  async #tracked(name: string): Promise<boolean> {
    try {
      return (await this.settings.isTracked?.(name)) ?? false;
    } catch {
      return false; // cannot tell: the one-new-cluster rule still guards
    }
  }

  [Symbol.dispose](): void {
    watches.delete(this);
  }
}

/**
 * Whether the gateway may have created a cluster although the request failed: the answer was
 * lost on the way, or the gateway answered with success in a form that could not be read.
 */
function mayHaveCreated(failure: unknown): boolean {
  return answerMayBeLost(failure) ||
    (failure instanceof UnexpectedResponse && failure.status >= 200 && failure.status < 300);
}

function failureReason(failure: unknown): string {
  if (failure instanceof GatewayUnavailable) return failure.reason;
  if (failure instanceof UnexpectedResponse) return `HTTP ${failure.status}: ${failure.detail}`;
  return String((failure as Error)?.message ?? failure);
}

/** Whether `cluster` runs with every option that was asked for (the gateway adds defaults). */
function asked(cluster: ClusterReport, options: ClusterOptionValues): boolean {
  return Object.entries(options).every(([field, value]) =>
    JSON.stringify(cluster.options[field]) === JSON.stringify(value)
  );
}

function timeout(settings: CreateWatchOptions): number {
  return Math.min(settings.timeoutMs ?? CHECK_TIMEOUT_MS, CHECK_TIMEOUT_MS);
}
