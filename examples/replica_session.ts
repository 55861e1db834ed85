/**
 * The examples' `--replica` mode: use the local DEDL replica, starting it if it is not running,
 * and log in as its first user without a prompt. The replica's helpers live beside its tests, so
 * they are imported only when this mode is used.
 * @module
 */
import type { ReplicaEndpoints } from "../tests/replica/endpoints.ts";
import { OidcAuth } from "../mod.ts";

/** A replica to run an example against. */
export interface ReplicaSession {
  /** Its `.replica/endpoints.json`. */
  readonly endpoints: ReplicaEndpoints;
  /** Every dataset of every site: site → name → Zarr path. */
  readonly datasets: Record<string, Record<string, string>>;
  /** The same datasets by URL, served by each site's object store: site → name → URL. */
  readonly datasetUrls: Record<string, Record<string, string>>;
  /** Logs in the replica's first user. */
  login(): Promise<OidcAuth>;
  /** Stops the replica if this session started it. */
  close(): Promise<void>;
}

/** Uses the running replica, or starts one (and then stops it on {@link ReplicaSession.close}). */
export async function openReplicaSession(): Promise<ReplicaSession> {
  const replica = await import("../tests/replica/replica.ts");
  const { readEndpoints } = await import("../tests/replica/endpoints.ts");
  let started = false;
  if (!(await replica.replicaStatus())) {
    console.log("Starting the local DEDL replica (Keycloak + two dask-gateway sites)…");
    await replica.startReplica();
    started = true;
  }
  const endpoints = await readEndpoints();
  const user = endpoints.users[0];
  const datasetUrls: Record<string, Record<string, string>> = {};
  for (const [site, s] of Object.entries(endpoints.sites)) {
    if (!s.dataset_urls) {
      throw new Error(
        "the running replica has no object stores (started by an older version): " +
          "run 'deno task replica stop' and start it again",
      );
    }
    datasetUrls[site] = s.dataset_urls;
  }
  return {
    endpoints,
    datasets: await replica.replicaDatasets(endpoints),
    datasetUrls,
    login: () =>
      OidcAuth.password({
        issuer: endpoints.issuer,
        clientId: endpoints.client_id,
        username: user.username,
        password: user.password,
      }),
    close: async () => {
      if (started) await replica.stopReplica();
    },
  };
}
