/**
 * The replica's endpoints file, `.replica/endpoints.json`: a contract that tests, examples,
 * benchmarks and people rely on. Its `sites` object has the shape of DEDL's bridges.json.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** One site as DEDL's bridges.json describes it, plus the replica's dataset path. */
export interface ReplicaSite {
  name: string;
  /** The gateway's HTTP API (and dashboard) address. */
  address: string;
  /** The scheduler proxy (TLS/SNI pass-through), `tcp://host:port` as DEDL writes it. */
  proxy_address: string;
  /** The site's synthetic temperature dataset (a Zarr store readable by the site's workers). */
  dataset: string;
  /**
   * Every dataset of the site by name, each a Zarr store whose main variable has that name
   * (`temperature` → `t2m`): `temperature` (= {@link dataset}) at every site, plus one large store
   * (>= 1 GB float32, 128 chunks) — `flood` at central (daily flood mask, 20 m pixels), and
   * `precipitation` at lumi (hourly rainfall in mm). Absent in files written before it existed.
   */
  datasets?: Record<string, string>;
  /**
   * The site's object store (S3-compatible, anonymous reads, path-style URLs), as DEDL's
   * `https://s3.<site>.data.destination-earth.eu`: `http://127.0.0.1:<port>`. Absent in files
   * written before it existed.
   */
  store?: string;
  /**
   * The same datasets as {@link datasets} (same keys), each a Zarr v2 store with consolidated
   * metadata read by URL from {@link store}: `<store>/datasets/<name>.zarr`.
   */
  dataset_urls?: Record<string, string>;
  default_config: { min: number; max: number };
}

/** One value of the sites' `image` option: which software its schedulers and workers run. */
export interface ReplicaImage {
  /** The `distributed` version, e.g. `"2023.8.0"`. */
  distributed: string;
  /** The Python environment that runs it. */
  python: string;
}

/** Contents of `.replica/endpoints.json`. */
export interface ReplicaEndpoints {
  issuer: string;
  token_url: string;
  jwks_url: string;
  client_id: string;
  /**
   * The Python of DEDL's stack (distributed 2023.8.0, xarray, zarr 2, numpy 1): it runs the
   * gateways and the clusters of the default image.
   */
  python: string;
  /** Pythons by pinned `distributed` version (the protocol version matrix). */
  pythons: Record<string, string>;
  /** The sites' `image` option values and the software each runs; {@link default_image} first. */
  images: Record<string, ReplicaImage>;
  /** The `image` a cluster gets when none is asked for (DEDL's stack). */
  default_image: string;
  users: { username: string; password: string }[];
  /** Keycloak's bootstrap admin, for tests that need the admin REST API. */
  admin: { username: string; password: string };
  sites: Record<string, ReplicaSite>;
  /**
   * The `desp` realm playing DESP, the DestinE platform's identity provider: its issuer and its
   * users, who exist only there (DEDL knows them through the token exchange). One user has a
   * TOTP second factor whose key (`totp_secret`, base32) lets tests compute the codes.
   */
  desp: ReplicaDesp;
  /** Service-account clients of the `dedl` realm (client credentials grant). */
  service_accounts: { client_id: string; client_secret: string }[];
}

/** The replica's stand-in for DESP (see {@link ReplicaEndpoints.desp}). */
export interface ReplicaDesp {
  issuer: string;
  users: { username: string; password: string; totp_secret?: string }[];
}

/**
 * The `DEDL_IMAGES` environment value a replica gateway reads (`gateway_config.py`): image →
 * Python, the default image first.
 */
export function gatewayImages(endpoints: Pick<ReplicaEndpoints, "images">): string {
  return JSON.stringify(
    Object.fromEntries(
      Object.entries(endpoints.images).map(([image, { python }]) => [image, python]),
    ),
  );
}

/** Root of this repository. */
export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** Folder with the replica's runtime state: `$DEDL_REPLICA_DIR`, else `.replica/` (git-ignored). */
export const REPLICA_DIR: string = Deno.env.get("DEDL_REPLICA_DIR") ?? join(REPO_ROOT, ".replica");

/** Path of the endpoints file. */
export const ENDPOINTS_PATH: string = join(REPLICA_DIR, "endpoints.json");

/**
 * Reads `.replica/endpoints.json`. Throws with the command to run when the replica was never
 * started here.
 */
export async function readEndpoints(path = ENDPOINTS_PATH): Promise<ReplicaEndpoints> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${path} not found: start the replica with 'deno task replica start'`);
    }
    throw e;
  }
}
