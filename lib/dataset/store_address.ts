/**
 * Where a Zarr store is: an `https://`/`http://` object-store URL, `s3://bucket/path` with the
 * object store's endpoint, a `file://` URL or a local path. The same address serves the client
 * (which reads the metadata) and the cluster (whose xarray opens the store).
 * @module
 */
import { InvalidStoreUrl } from "./errors.ts";

/** A resolved store address. */
export interface StoreAddress {
  /** How the store is read: over HTTP, or from the local file system. */
  readonly kind: "http" | "local";
  /**
   * The store's URL (`http(s)://…`, no trailing slash) or absolute path: what the client reads
   * and what the cluster's `xarray.open_zarr` receives.
   */
  readonly url: string;
}

/**
 * Resolves a store URL or path.
 *
 * `s3://bucket/path` becomes the path-style URL `<endpoint>/bucket/path`: DEDL's buckets are
 * public and answer anonymous path-style requests, so the client and the cluster need no S3
 * credentials or S3 library (fsspec's HTTP file system reads it).
 * @throws {InvalidStoreUrl} for other schemes, an `s3://` URL without `endpoint`, query strings.
 */
export function resolveStoreAddress(url: string | URL, endpoint?: string | URL): StoreAddress {
  const given = String(url);
  const text = given.trim();
  if (!text) throw new InvalidStoreUrl(given, "the URL is empty");
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    // A path, absolute or relative to the working directory (the cluster needs it absolute).
    return { kind: "local", url: absolutePath(text) };
  }
  if (scheme === "file") {
    return { kind: "local", url: decodeURIComponent(new URL(text).pathname) };
  }
  if (scheme === "http" || scheme === "https") {
    return { kind: "http", url: httpUrl(text, given) };
  }
  if (scheme === "s3") {
    if (endpoint === undefined || String(endpoint) === "") {
      throw new InvalidStoreUrl(
        given,
        "an s3:// URL needs the object store's endpoint: pass { endpoint: " +
          '"https://s3.<site>.data.destination-earth.eu" }, or give the https:// URL',
      );
    }
    const base = httpUrl(String(endpoint), given);
    const rest = text.slice("s3://".length).replace(/\/+$/, "");
    if (!rest || rest.startsWith("/")) {
      throw new InvalidStoreUrl(given, "write s3://<bucket>/<path of the store>");
    }
    return { kind: "http", url: `${base}/${rest}` };
  }
  throw new InvalidStoreUrl(
    given,
    `the scheme ${scheme}:// is not supported; use https://, http://, s3:// (with an endpoint), ` +
      "file:// or a local path",
  );
}

function httpUrl(text: string, given: string): string {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new InvalidStoreUrl(given, `${JSON.stringify(text)} is not a valid URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new InvalidStoreUrl(given, `the endpoint ${text} is not an http(s):// URL`);
  }
  if (parsed.search || parsed.hash) {
    throw new InvalidStoreUrl(given, "a store URL has no query string or fragment");
  }
  if (parsed.username || parsed.password) {
    throw new InvalidStoreUrl(given, "credentials in the URL are not supported (anonymous reads)");
  }
  return parsed.href.replace(/\/+$/, "");
}

function absolutePath(path: string): string {
  const joined = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  const parts: string[] = [];
  for (const part of joined.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}
