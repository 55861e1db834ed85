/**
 * What the benches run against, started on first use and stopped on dispose: a local `tcp://`
 * scheduler with one worker per software release, a dask-gateway of the bench's own (the
 * replica's site configuration and Keycloak) with one RUNNING cluster per release, and N more
 * gateways as simulated sites (clusters in the gateway process, or in processes of their own). Clusters the children start are tracked by
 * name and stopped if a child left one.
 *
 * The gateway-bound benches use a gateway of their own rather than the replica's `central` or
 * `lumi`: tests running at the same time assert on the clusters a replica user has there.
 * @module
 */
import { type GatewayServer, startGatewayServer } from "../lib/gateway/testing/gateway_server.ts";
import { PasswordTokens } from "../lib/gateway/testing/password_tokens.ts";
import { replicaLogin } from "../lib/gateway/testing/replica_login.ts";
import { Gateway, type GatewayCluster, type SiteRegistry } from "../mod.ts";
import type { OidcAuth } from "../lib/auth/mod.ts";
import type { SimBackend } from "./bench_context.ts";
import { LocalCluster } from "../protocol/testing/local_cluster.ts";
import { readEndpoints, type ReplicaEndpoints } from "../tests/replica/endpoints.ts";
import { pinnedDistributed, pythonEnv, type PythonEra } from "../tests/replica/python_env.ts";

/**
 * Appended to the replica's site configuration for in-process simulated sites. The scheduler and
 * workers then run in the gateway's own event loop (TLS, the proxy's SNI routing and the
 * scheduler's gateway service as with processes); of the LocalBackend settings only the clusters
 * directory still applies: `scheduler_cmd`, `worker_cmd` and `environment` name processes that
 * are no longer spawned — the gateway process carries `DEDL_SITE` and `DEDL_REPLICA_ID` itself.
 *
 * The status checks are pushed past any bench run: `InProcessBackend` reports a live scheduler
 * or worker as dead (its check holds only for a closed one), so a check that falls while a
 * cluster is still starting fails that cluster ("failed during startup" in the gateway log,
 * every 30 s by default). In-process there is no process that could die unseen anyway.
 */
const IN_PROCESS_CONFIG = [
  `c.DaskGateway.backend_class = "dask_gateway_server.backends.inprocess.InProcessBackend"`,
  `c.InProcessBackend.cluster_status_period = 86400`,
  `c.InProcessBackend.worker_status_period = 86400`,
  "",
].join("\n");

/** A RUNNING cluster behind a gateway proxy, as the children's configuration names it. */
export interface GatewayTarget {
  /** The gateway's API address. */
  readonly address: string;
  /** Its scheduler proxy. */
  readonly proxy_address: string;
  /** The cluster's name. */
  readonly cluster: string;
}

/** The benches' shared, lazily started fixtures. */
export class BenchFixtures implements AsyncDisposable {
  readonly #tokens: PasswordTokens;
  #auth: OidcAuth | undefined;
  readonly #local = new Map<PythonEra, Promise<LocalCluster>>();
  #server: Promise<GatewayServer> | undefined;
  readonly #gatewayClusters = new Map<
    PythonEra,
    Promise<{ cluster: GatewayCluster; target: GatewayTarget }>
  >();
  readonly #simulated: Record<SimBackend, GatewayServer[]> = { inprocess: [], process: [] };
  readonly #tracked = new Map<string, { proxy: string; names: Set<string> }>();

  private constructor(
    /** The replica's endpoints file. */
    readonly endpoints: ReplicaEndpoints,
    /** The replica user (index) every gateway call runs as. */
    readonly user: number,
    tokens: PasswordTokens,
  ) {
    this.#tokens = tokens;
  }

  /** Reads the replica's endpoints; nothing is started yet. */
  static async create(user: number): Promise<BenchFixtures> {
    const endpoints = await readEndpoints();
    return new BenchFixtures(endpoints, user, await PasswordTokens.forReplicaUser(user));
  }

  /** The replica's Python: DEDL's stack (distributed, dask-gateway, numpy, xarray). */
  get python(): string {
    return this.endpoints.python;
  }

  /** The Python of a release (its `distributed` and `dask_gateway` clients). */
  pythonOf(era: PythonEra): Promise<string> {
    return pythonEnv(era);
  }

  /** A token from a new password grant: valid for the whole of a short child process. */
  async freshToken(): Promise<string> {
    return await this.#tokens.accessToken({ forceRefresh: true });
  }

  /** A local scheduler with one worker (2 threads) on 127.0.0.1, of a release. */
  localCluster(era: PythonEra = "dedl"): Promise<LocalCluster> {
    let local = this.#local.get(era);
    if (!local) {
      local = LocalCluster.start({ era, workers: 1, threadsPerWorker: 2 });
      this.#local.set(era, local);
    }
    return local;
  }

  /**
   * A RUNNING cluster with one worker on the bench's own gateway (dask-gateway-server of DEDL's
   * stack), its scheduler and worker of a release (the `image` option).
   */
  async gatewayTarget(era: PythonEra = "dedl"): Promise<GatewayTarget> {
    let started = this.#gatewayClusters.get(era);
    if (!started) {
      started = (async () => {
        const server = await this.#gatewayServer();
        const gateway = new Gateway({
          address: server.address,
          proxyAddress: server.proxyAddress,
          auth: await this.#login(),
        });
        const cluster = await gateway.newCluster({ image: await this.#imageOf(era) }, {
          workers: 1,
        });
        return {
          cluster,
          target: {
            address: server.address,
            proxy_address: server.proxyAddress,
            cluster: cluster.name,
          },
        };
      })();
      this.#gatewayClusters.set(era, started);
    }
    return (await started).target;
  }

  /** The replica's `image` option value whose clusters run the release of `era`. */
  async #imageOf(era: PythonEra): Promise<string> {
    const distributed = await pinnedDistributed(era);
    const image = Object.entries(this.endpoints.images).find(([, i]) =>
      i.distributed === distributed
    );
    if (!image) throw new Error(`the replica has no image with distributed ${distributed}`);
    return image[0];
  }

  #gatewayServer(): Promise<GatewayServer> {
    this.#server ??= startGatewayServer({ site: "bench" });
    return this.#server;
  }

  /**
   * `n` more gateways on loopback as simulated sites, in bridges.json shape, with the replica's
   * site configuration (Keycloak bearer auth, the DEDL cluster options, TLS through the proxy)
   * and their clusters run as `backend` says.
   */
  async simulatedSites(n: number, backend: SimBackend): Promise<SiteRegistry> {
    const servers = this.#simulated[backend];
    while (servers.length < n) {
      const first = servers.length;
      const started = await Promise.allSettled(
        Array.from(
          { length: n - first },
          (_, i) =>
            startGatewayServer({
              site: `sim${first + i}`,
              extraConfig: backend === "inprocess" ? IN_PROCESS_CONFIG : undefined,
            }),
        ),
      );
      for (const s of started) if (s.status === "fulfilled") servers.push(s.value);
      const failed = started.find((s) => s.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    const sites: SiteRegistry = {};
    servers.slice(0, n).forEach((server, i) => {
      sites[`sim${i}`] = {
        name: `Simulated site ${i} (${backend})`,
        address: server.address,
        proxy_address: server.proxyAddress,
        default_config: { min: 2, max: 10 },
      };
    });
    return sites;
  }

  /** Remembers a cluster a child started, to stop it at the end if it is still there. */
  track(address: string, proxy: string, name: string): void {
    const entry = this.#tracked.get(address) ?? { proxy, names: new Set<string>() };
    entry.names.add(name);
    this.#tracked.set(address, entry);
  }

  /** Stops everything that was started (and tracked clusters a child may have left). */
  async [Symbol.asyncDispose](): Promise<void> {
    const stops: Promise<unknown>[] = [];
    if (this.#tracked.size > 0) {
      const auth = await this.#login();
      for (const [address, { proxy, names }] of this.#tracked) {
        const gateway = new Gateway({ address, proxyAddress: proxy, auth });
        for (const name of names) {
          stops.push(gateway.stopCluster(name, { timeoutMs: 60_000 }).catch(() => {}));
        }
      }
    }
    for (const started of this.#gatewayClusters.values()) {
      stops.push(started.then(({ cluster }) => cluster.shutdown()).catch(() => {}));
    }
    await Promise.all(stops);
    await Promise.all([
      this.#server?.then((s) => s.stop()).catch(() => {}),
      ...Object.values(this.#simulated).flat().map((s) => s.stop()),
      ...[...this.#local.values()].map((l) =>
        l.then((c) => c[Symbol.asyncDispose]()).catch(() => {})
      ),
    ]);
    await this.#auth?.[Symbol.asyncDispose]();
  }

  async #login(): Promise<OidcAuth> {
    this.#auth ??= await replicaLogin(this.user);
    return this.#auth;
  }
}
