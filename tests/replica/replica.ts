/**
 * The local DEDL replica: Keycloak (realm `dedl`) and two dask-gateway sites, `central` and
 * `lumi`, each running real Dask schedulers and workers, all on loopback.
 *
 *   deno task replica start    install what is missing, start, wait until healthy (idempotent)
 *   deno task replica status   exit 0 only when every part answers
 *   deno task replica stop     stop every process it started, clusters included
 *   deno task replica install  only install (cached outside the repo)
 *
 * @module
 */
import { join } from "node:path";
import { cacheRoot, digest, exists } from "./cache.ts";
import {
  ENDPOINTS_PATH,
  gatewayImages,
  REPLICA_DIR,
  type ReplicaEndpoints,
  type ReplicaImage,
  type ReplicaSite,
} from "./endpoints.ts";
import {
  freePort,
  isAlive,
  pidsWithEnv,
  portOpen,
  signalGroup,
  spawnDetached,
  tail,
} from "./process.ts";
import { pinnedDistributed, PYTHON_ERAS, pythonEnv, type PythonEra } from "./python_env.ts";
import {
  allowTokenExchange,
  despEndpoints,
  despKeycloakEnv,
  despSecrets,
  KEYCLOAK_FEATURES,
} from "./desp_realm.ts";
import { datasetUrl, installS3Proxy, prepareObjectStore, STORE_BUCKET } from "./object_store.ts";

const SITES = ["central", "lumi"] as const;
const SITE_NAMES: Record<string, string> = { central: "Central Site", lumi: "LUMI Bridge" };
const JAVA_25 = "/usr/lib/jvm/temurin-25-jdk-amd64";
/** Keycloak 26.6+ supports Java 25; 26.5 is the fallback for a machine with only Java 17. */
const KEYCLOAK_ON_JAVA_25 = "26.7.3";
const KEYCLOAK_ON_JAVA_17 = "26.5.6";
const CLIENT_ID = "dedl-stack-public-client";
const HERE = new URL(".", import.meta.url).pathname;
const STATE_PATH = join(REPLICA_DIR, "state.json");
const LOG_DIR = join(REPLICA_DIR, "logs");

interface ReplicaProcess {
  part: string;
  pid: number;
  log: string;
  port: number;
}

interface ReplicaState {
  id: string;
  processes: ReplicaProcess[];
  endpoints: ReplicaEndpoints;
}

class ReplicaError extends Error {
  constructor(part: string, message: string, log?: string) {
    super(
      `replica: ${part}: ${message}` +
        (log ? `\n--- last lines of ${log} ---\n${tail(log)}\n---` : ""),
    );
    this.name = "ReplicaError";
  }
}

interface Keycloak {
  home: string;
  javaHome: string;
  version: string;
}

function log(msg: string): void {
  console.error(`[replica] ${msg}`);
}

async function run(cmd: string, args: string[], part: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new ReplicaError(part, `${cmd} ${args.join(" ")} failed:\n${text.slice(-3000)}`);
  }
}

async function installKeycloak(): Promise<Keycloak> {
  const java25 = await exists(join(JAVA_25, "bin", "java"));
  const version = java25 ? KEYCLOAK_ON_JAVA_25 : KEYCLOAK_ON_JAVA_17;
  const javaHome = java25 ? JAVA_25 : "";
  // Its own unpacked copy: start-dev rebuilds an installation for its feature set, and a copy
  // shared with replicas started without these features would be rebuilt under them.
  const root = join(cacheRoot(), `keycloak-${version}-token-exchange`);
  const home = join(root, `keycloak-${version}`);
  if (await exists(join(home, "bin", "kc.sh"))) return { home, javaHome, version };
  log(`downloading Keycloak ${version} from Maven Central (once)`);
  const mavenDir = join(cacheRoot(), "maven");
  const archive = join(mavenDir, `keycloak-quarkus-dist-${version}.tar.gz`);
  if (!(await exists(archive))) {
    await run("mvn", [
      "-q",
      "dependency:copy",
      `-Dartifact=org.keycloak:keycloak-quarkus-dist:${version}:tar.gz`,
      `-DoutputDirectory=${mavenDir}`,
    ], "keycloak install");
  }
  const staging = `${root}.partial`;
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  await Deno.mkdir(staging, { recursive: true });
  await run("tar", ["xzf", archive, "-C", staging], "keycloak install");
  await Deno.remove(root, { recursive: true }).catch(() => {});
  await Deno.rename(staging, root);
  return { home, javaHome, version };
}

/** The large dataset of each site, by name (mirrors `LARGE` in make_datasets.py). */
const LARGE_DATASETS: Record<string, string> = { central: "flood", lumi: "precipitation" };

/** Every dataset of `site` in the data folder `data`, by name (see `ReplicaSite.datasets`). */
function siteDatasets(data: string, site: string): Record<string, string> {
  const datasets: Record<string, string> = { temperature: join(data, site, "temperature.zarr") };
  const large = LARGE_DATASETS[site];
  if (large) datasets[large] = join(data, site, `${large}.zarr`);
  return datasets;
}

/**
 * The datasets of every site of a running replica: `sites.<site>.datasets` of its endpoints,
 * or, for a replica started before that field existed, the same stores made here (once per
 * machine, cached; the sites' workers run on this machine and read them by path).
 */
export async function replicaDatasets(
  endpoints: ReplicaEndpoints,
): Promise<Record<string, Record<string, string>>> {
  const sites = Object.entries(endpoints.sites);
  if (sites.every(([, s]) => s.datasets)) {
    return Object.fromEntries(sites.map(([site, s]) => [site, s.datasets!]));
  }
  const data = await installDatasets(endpoints.python);
  return Object.fromEntries(sites.map(([site]) => [site, siteDatasets(data, site)]));
}

/** Builds each site's datasets once per version of the generator script. */
async function installDatasets(python: string): Promise<string> {
  const script = join(HERE, "make_datasets.py");
  const dir = join(cacheRoot(), `data-${await digest(await Deno.readTextFile(script))}`);
  const marker = join(dir, ".complete");
  if (await exists(marker)) return dir;
  log("writing the sites' synthetic datasets (once, about 2 GB)");
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  // Written aside and renamed, so a concurrent writer (a test) never sees a half-made folder.
  const staging = `${dir}.partial-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await run(python, [script, staging, ...SITES], "datasets");
    await Deno.writeTextFile(join(staging, ".complete"), new Date().toISOString());
    await Deno.rename(staging, dir).catch(async (e) => {
      if (!(await exists(marker))) throw e; // else another writer finished first
    });
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
  return dir;
}

interface Installed {
  python: string;
  pythons: Record<string, string>;
  images: Record<string, ReplicaImage>;
  keycloak: Keycloak;
  data: string;
  /** S3Proxy's jar, for the sites' object stores. */
  s3proxy: string;
}

/**
 * The `image` option values of the replica's sites, the default first: DEDL's own image runs
 * DEDL's stack; the official Dask image name stands for the newest release.
 */
const IMAGES: ReadonlyArray<[string, PythonEra]> = [
  ["registry.eodc.eu/eodc/clusters/dedl-deployment/dedl-dask:latest", "dedl"],
  ["ghcr.io/dask/dask:2026.8.0-py3.11", "current"],
];

async function install(): Promise<Installed> {
  // One at a time: pip is CPU-bound, and Keycloak's download overlaps the first.
  const keycloak = installKeycloak();
  const s3proxy = installS3Proxy(run);
  const pythons: Record<string, string> = {};
  for (const era of PYTHON_ERAS) pythons[await pinnedDistributed(era)] = await pythonEnv(era);
  const python = await pythonEnv("dedl");
  const images: Record<string, ReplicaImage> = {};
  for (const [image, era] of IMAGES) {
    images[image] = { distributed: await pinnedDistributed(era), python: await pythonEnv(era) };
  }
  const data = await installDatasets(python);
  return { python, pythons, images, keycloak: await keycloak, data, s3proxy: await s3proxy };
}

function password(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}

async function readState(): Promise<ReplicaState | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(STATE_PATH));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

async function writePrivate(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
}

async function httpOk(url: string, timeoutMs = 3000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** Health probe per part: the URL that must answer 200. */
function probeUrl(p: ReplicaProcess, endpoints: ReplicaEndpoints): string {
  if (p.part === "keycloak") return `${endpoints.issuer}/.well-known/openid-configuration`;
  if (p.part.startsWith("store-")) {
    return `${endpoints.sites[p.part.slice("store-".length)].dataset_urls!.temperature}/.zmetadata`;
  }
  return `${endpoints.sites[p.part.replace(/^gateway-/, "")].address}/api/health`;
}

async function waitHealthy(state: ReplicaState, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(state.processes);
  while (pending.size > 0) {
    for (const p of [...pending]) {
      if (!isAlive(p.pid)) throw new ReplicaError(p.part, "process exited during start", p.log);
      if (await httpOk(probeUrl(p, state.endpoints))) {
        pending.delete(p);
        log(`${p.part} is up`);
      }
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      const p = [...pending][0];
      throw new ReplicaError(p.part, `not healthy after ${timeoutMs / 1000} s`, p.log);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function healthy(state: ReplicaState): Promise<Map<string, boolean>> {
  const result = new Map<string, boolean>();
  await Promise.all(state.processes.map(async (p) => {
    result.set(p.part, isAlive(p.pid) && await httpOk(probeUrl(p, state.endpoints)));
  }));
  return result;
}

function printEndpoints(endpoints: ReplicaEndpoints): void {
  // The file holds the generated passwords; the printed copy does not.
  const shown = {
    ...endpoints,
    users: endpoints.users.map((u) => ({ ...u, password: `<see ${ENDPOINTS_PATH}>` })),
    admin: { ...endpoints.admin, password: `<see ${ENDPOINTS_PATH}>` },
    desp: {
      ...endpoints.desp,
      users: endpoints.desp.users.map((u) => ({
        username: u.username,
        password: `<see ${ENDPOINTS_PATH}>`,
        ...(u.totp_secret ? { totp_secret: `<see ${ENDPOINTS_PATH}>` } : {}),
      })),
    },
    service_accounts: endpoints.service_accounts.map((a) => ({
      ...a,
      client_secret: `<see ${ENDPOINTS_PATH}>`,
    })),
  };
  console.log(JSON.stringify(shown, null, 2));
}

async function start(): Promise<void> {
  const existing = await readState();
  if (existing) {
    const health = await healthy(existing);
    // A replica started before its DESP realm existed is replaced rather than reused.
    const current = existing.endpoints.desp !== undefined;
    if (current && [...health.values()].every(Boolean)) {
      log("already running");
      printEndpoints(existing.endpoints);
      return;
    }
    log(`a previous replica is ${current ? "not healthy" : "outdated"}; stopping it first`);
    await stop();
  }
  const started = Date.now();
  const installed = await install();
  log(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await Deno.mkdir(LOG_DIR, { recursive: true });

  const id = crypto.randomUUID();
  const kcPort = freePort();
  const kcManagementPort = freePort();
  const issuer = `http://127.0.0.1:${kcPort}/auth/realms/dedl`;
  const users = [
    { username: "alice", password: password() },
    { username: "bob", password: password() },
  ];
  const admin = { username: "admin", password: password() };
  const despIssuer = `http://127.0.0.1:${kcPort}/auth/realms/desp`;
  const desp = despSecrets(password);
  const sites: Record<string, ReplicaSite> = {};
  const gatewayPorts: Record<string, number> = {};
  const storePorts: Record<string, number> = {};
  for (const site of SITES) {
    const port = freePort();
    gatewayPorts[site] = port;
    storePorts[site] = freePort();
    const datasets = siteDatasets(installed.data, site);
    const store = `http://127.0.0.1:${storePorts[site]}`;
    sites[site] = {
      name: SITE_NAMES[site],
      address: `http://127.0.0.1:${port}`,
      proxy_address: `tcp://127.0.0.1:${port}`,
      dataset: join(installed.data, site, "temperature.zarr"),
      datasets,
      store,
      dataset_urls: Object.fromEntries(
        Object.keys(datasets).map((name) => [name, datasetUrl(store, name)]),
      ),
      default_config: { min: 2, max: 10 },
    };
  }
  const endpoints: ReplicaEndpoints = {
    issuer,
    token_url: `${issuer}/protocol/openid-connect/token`,
    jwks_url: `${issuer}/protocol/openid-connect/certs`,
    client_id: CLIENT_ID,
    python: installed.python,
    pythons: installed.pythons,
    images: installed.images,
    default_image: IMAGES[0][0],
    users,
    admin,
    sites,
    ...despEndpoints(desp, despIssuer),
  };
  const state: ReplicaState = { id, processes: [], endpoints };

  const kc = installed.keycloak;
  const importDir = join(kc.home, "data", "import");
  await Deno.mkdir(importDir, { recursive: true });
  await Deno.copyFile(join(HERE, "realm-dedl.json"), join(importDir, "dedl.json"));
  await Deno.copyFile(join(HERE, "realm-desp.json"), join(importDir, "desp.json"));
  const kcLog = join(LOG_DIR, "keycloak.log");
  await Deno.writeTextFile(kcLog, "");
  const kcEnv: Record<string, string> = {
    DEDL_REPLICA_ID: id,
    KC_BOOTSTRAP_ADMIN_USERNAME: admin.username,
    KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
    DEDL_REPLICA_PASSWORD_ALICE: users[0].password,
    DEDL_REPLICA_PASSWORD_BOB: users[1].password,
    ...despKeycloakEnv(desp, issuer, despIssuer),
  };
  if (kc.javaHome) kcEnv.JAVA_HOME = kc.javaHome;
  state.processes.push({
    part: "keycloak",
    log: kcLog,
    port: kcPort,
    pid: await spawnDetached(join(kc.home, "bin", "kc.sh"), [
      "start-dev",
      "--http-host=127.0.0.1",
      `--http-port=${kcPort}`,
      "--http-relative-path=/auth",
      "--import-realm",
      "--db=dev-mem",
      `--features=${KEYCLOAK_FEATURES}`,
      "--health-enabled=true",
      `--http-management-port=${kcManagementPort}`,
    ], { log: kcLog, env: kcEnv, cwd: kc.home }),
  });

  for (const site of SITES) {
    const gwLog = join(LOG_DIR, `gateway-${site}.log`);
    await Deno.writeTextFile(gwLog, "");
    const clustersDir = join(REPLICA_DIR, "clusters", site);
    await Deno.mkdir(clustersDir, { recursive: true });
    state.processes.push({
      part: `gateway-${site}`,
      log: gwLog,
      port: gatewayPorts[site],
      pid: await spawnDetached(installed.python, [
        "-m",
        "dask_gateway_server",
        "-f",
        join(HERE, "gateway_config.py"),
      ], {
        log: gwLog,
        cwd: clustersDir,
        env: {
          DEDL_REPLICA_ID: id,
          DEDL_SITE: site,
          DEDL_GATEWAY_PORT: String(gatewayPorts[site]),
          DEDL_ISSUER: issuer,
          DEDL_JWKS_URL: endpoints.jwks_url,
          DEDL_SITE_DATA: join(installed.data, site),
          DEDL_CLUSTERS_DIR: clustersDir,
          DEDL_IMAGES: gatewayImages(installed),
        },
      }),
    });
  }
  // --- the sites' object stores (S3Proxy serving each site's data folder) ---
  for (const site of SITES) {
    const launch = await prepareObjectStore(
      installed.s3proxy,
      join(REPLICA_DIR, "stores", site),
      join(installed.data, site),
      storePorts[site],
    );
    const storeLog = join(LOG_DIR, `store-${site}.log`);
    await Deno.writeTextFile(storeLog, "");
    state.processes.push({
      part: `store-${site}`,
      log: storeLog,
      port: storePorts[site],
      pid: await spawnDetached(launch.cmd, launch.args, {
        log: storeLog,
        env: { DEDL_REPLICA_ID: id },
      }),
    });
  }
  log(`object stores: bucket ${STORE_BUCKET} at ${SITES.map((s) => sites[s].store).join(", ")}`);

  // Written before waiting, so `stop` can clean up a start that failed half-way.
  await writePrivate(STATE_PATH, JSON.stringify(state, null, 2));
  try {
    await waitHealthy(state, 240_000);
    await allowTokenExchange(issuer.replace(/\/realms\/dedl$/, ""), admin);
  } catch (e) {
    await stop();
    throw e;
  }
  await writePrivate(ENDPOINTS_PATH, JSON.stringify(endpoints, null, 2) + "\n");
  log(`healthy ${((Date.now() - started) / 1000).toFixed(1)} s after start`);
  printEndpoints(endpoints);
}

async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    alive = alive.filter(isAlive);
  }
  return alive;
}

async function stop(): Promise<void> {
  const state = await readState();
  if (!state) {
    log("not running");
    return;
  }
  // Gateways first: on SIGTERM they stop their clusters.
  const gateways = state.processes.filter((p) => p.part !== "keycloak");
  for (const p of gateways) signalGroup(p.pid, "SIGTERM");
  await waitGone(gateways.map((p) => p.pid), 15_000);
  for (const p of state.processes) signalGroup(p.pid, "SIGTERM");
  const left = await waitGone(state.processes.map((p) => p.pid), 15_000);
  for (const pid of left) signalGroup(pid, "SIGKILL");
  // Anything tagged with our id that escaped its group (schedulers and workers of clusters).
  let stray = pidsWithEnv("DEDL_REPLICA_ID", state.id);
  for (const pid of stray) Deno.kill(pid, "SIGTERM");
  stray = await waitGone(stray, 10_000);
  for (const pid of stray) Deno.kill(pid, "SIGKILL");
  await waitGone(stray, 5_000);
  for (const p of state.processes) {
    for (let i = 0; i < 50 && await portOpen(p.port); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    if (await portOpen(p.port)) throw new ReplicaError(p.part, `port ${p.port} still bound`);
  }
  await Deno.remove(ENDPOINTS_PATH).catch(() => {});
  await Deno.remove(STATE_PATH).catch(() => {});
  await Deno.remove(join(REPLICA_DIR, "clusters"), { recursive: true }).catch(() => {});
  await Deno.remove(join(REPLICA_DIR, "stores"), { recursive: true }).catch(() => {});
  log("stopped");
}

async function status(): Promise<boolean> {
  const state = await readState();
  if (!state) {
    console.log("replica: not running");
    return false;
  }
  const health = await healthy(state);
  for (const p of state.processes) {
    const ok = health.get(p.part);
    console.log(`${p.part.padEnd(16)} pid ${String(p.pid).padEnd(8)} ${ok ? "up" : "DOWN"}`);
    if (!ok) console.log(`  log: ${p.log}`);
  }
  return [...health.values()].every(Boolean);
}

if (import.meta.main) {
  const command = Deno.args[0];
  try {
    switch (command) {
      case "start":
        await start();
        break;
      case "stop":
        await stop();
        break;
      case "status":
        Deno.exit((await status()) ? 0 : 1);
        break;
      case "install":
        await install();
        break;
      default:
        console.error("usage: deno task replica start | stop | status | install");
        Deno.exit(2);
    }
  } catch (e) {
    console.error(e instanceof ReplicaError ? e.message : e);
    Deno.exit(1);
  }
}

export { start as startReplica, status as replicaStatus, stop as stopReplica };
