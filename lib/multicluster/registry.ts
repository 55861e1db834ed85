/**
 * The site registry: which DEDL sites exist and where their gateways are, in the shape of DEDL's
 * `bridges.json`. Built in are the five DEDL bridges; a file or URL in the same format (or the
 * replica's `.replica/endpoints.json`, whose `sites` object has that shape) replaces them, and the
 * environment variable {@link SITES_ENV} names such a file or URL.
 * @module
 */
import { isPlainObject } from "../../base/mod.ts";
import { InvalidSiteRegistry } from "./errors.ts";

/** One site ("bridge") as DEDL's bridges.json describes it. */
export interface SiteConfig {
  /** Human-readable name, e.g. "LUMI Bridge". */
  name: string;
  /** The gateway's HTTP API address, e.g. `https://dask.lumi.data.destination-earth.eu`. */
  address: string;
  /** The scheduler proxy, e.g. `tcp://dask.lumi.data.destination-earth.eu:80`; default: the API's host and port. */
  proxy_address?: string;
  /** Adaptive scaling bounds used for clusters started at this site. */
  default_config?: { min: number; max: number };
}

/** A site registry: site id (the value a dataset's `location` attribute names) → site. */
export type SiteRegistry = Record<string, SiteConfig>;

/** Environment variable naming a bridges.json file or URL that replaces the built-in registry. */
export const SITES_ENV = "DEDL_DASK_SITES";

const adapt = { min: 2, max: 10 };

/** DEDL's five bridges, as published in bridges.json. */
export const DEDL_SITES: Readonly<SiteRegistry> = Object.freeze({
  central: {
    name: "Central Site",
    address: "http://dask.central.data.destination-earth.eu",
    proxy_address: "tcp://dask.central.data.destination-earth.eu:80",
    default_config: adapt,
  },
  lumi: {
    name: "LUMI Bridge",
    address: "https://dask.lumi.data.destination-earth.eu",
    proxy_address: "tcp://dask.lumi.data.destination-earth.eu:80",
    default_config: adapt,
  },
  leonardo: {
    name: "LEONARDO Bridge",
    address: "https://dask.leonardo.data.destination-earth.eu",
    proxy_address: "tcp://dask.leonardo.data.destination-earth.eu:80",
    default_config: adapt,
  },
  eumetsat: {
    name: "EUMETSAT Bridge",
    address: "http://dask.eumetsat.data.destination-earth.eu",
    proxy_address: "tcp://dask.eumetsat.data.destination-earth.eu:80",
    default_config: adapt,
  },
  marenostrum: {
    name: "MareNostrum Bridge",
    address: "http://dask.marenostrum.data.destination-earth.eu",
    proxy_address: "tcp://dask.marenostrum.data.destination-earth.eu:80",
    default_config: adapt,
  },
});

/**
 * Checks a parsed bridges.json (or an endpoints file with a `sites` object) and returns the
 * registry. Throws {@link InvalidSiteRegistry} naming the first wrong field.
 */
export function parseSiteRegistry(data: unknown, source = "site registry"): SiteRegistry {
  const root = isPlainObject(data) && isPlainObject(data.sites) ? data.sites : data;
  if (!isPlainObject(root) || Object.keys(root).length === 0) {
    throw new InvalidSiteRegistry(
      `${source}: expected an object of sites like DEDL's bridges.json`,
    );
  }
  const registry: SiteRegistry = {};
  for (const [id, site] of Object.entries(root)) {
    const where = `${source}: site ${JSON.stringify(id)}`;
    if (!isPlainObject(site)) throw new InvalidSiteRegistry(`${where} is not an object`);
    if (typeof site.address !== "string" || !/^https?:\/\/[^/]/.test(site.address)) {
      throw new InvalidSiteRegistry(`${where}: "address" must be an http(s):// URL`);
    }
    if (
      site.proxy_address !== undefined &&
      (typeof site.proxy_address !== "string" ||
        !/^(tcp|tls|gateway):\/\/[^/]+:\d+\/?$/.test(site.proxy_address))
    ) {
      throw new InvalidSiteRegistry(
        `${where}: "proxy_address" must look like tcp://host:port (or tls://, gateway://)`,
      );
    }
    let defaults: SiteConfig["default_config"];
    if (site.default_config !== undefined) {
      const d = site.default_config;
      if (
        !isPlainObject(d) || !Number.isInteger(d.min) || !Number.isInteger(d.max) ||
        (d.min as number) < 0 || (d.max as number) < (d.min as number)
      ) {
        throw new InvalidSiteRegistry(
          `${where}: "default_config" must be { "min": int >= 0, "max": int >= min }`,
        );
      }
      defaults = { min: d.min as number, max: d.max as number };
    }
    registry[id] = {
      name: typeof site.name === "string" ? site.name : id,
      address: site.address.replace(/\/+$/, ""),
      ...(site.proxy_address ? { proxy_address: site.proxy_address as string } : {}),
      ...(defaults ? { default_config: defaults } : {}),
    };
  }
  return registry;
}

/**
 * Reads a registry from a bridges.json file path or an http(s) URL (timeout `timeoutMs`).
 */
export async function loadSiteRegistry(
  source: string | URL,
  { timeoutMs = 10_000 }: { timeoutMs?: number } = {},
): Promise<SiteRegistry> {
  const text = String(source);
  const unreadable = (reason: string, cause?: unknown) =>
    new InvalidSiteRegistry(`could not read the site registry ${text}: ${reason}`, { cause });
  let body: string;
  try {
    if (/^https?:\/\//.test(text)) {
      const res = await fetch(text, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) {
        await res.body?.cancel();
        throw unreadable(`HTTP ${res.status}`);
      }
      body = await res.text();
    } else {
      body = await Deno.readTextFile(text.startsWith("file:") ? new URL(text) : text);
    }
  } catch (e) {
    if (e instanceof InvalidSiteRegistry) throw e;
    throw unreadable((e as Error).message, e);
  }
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (e) {
    throw new InvalidSiteRegistry(`${text} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  return parseSiteRegistry(data, text);
}

/**
 * The registry to use: `sites` if given (an object, or a file path / URL to load), else the file
 * or URL named by {@link SITES_ENV}, else {@link DEDL_SITES}.
 */
export async function resolveSiteRegistry(
  sites?: SiteRegistry | string | URL,
): Promise<SiteRegistry> {
  if (sites !== undefined) {
    return typeof sites === "string" || sites instanceof URL
      ? await loadSiteRegistry(sites)
      : parseSiteRegistry(sites);
  }
  let fromEnv: string | undefined;
  try {
    fromEnv = Deno.env.get(SITES_ENV);
  } catch {
    fromEnv = undefined; // no --allow-env: use the built-in registry
  }
  return fromEnv ? await loadSiteRegistry(fromEnv) : { ...DEDL_SITES };
}
