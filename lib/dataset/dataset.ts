/**
 * {@link openDataset}: a Zarr store's metadata, read here, as a typed {@link Dataset} whose
 * variables become lazy expressions computed at the dataset's site.
 * @module
 */
import { type Node, py } from "../../protocol/mod.ts";
import { ArrayExpr } from "./array_expr.ts";
import {
  type CfDecoding,
  cfDecoding,
  type CoordinateValues,
  decodeValues,
  type VariableInfo,
} from "./cf_decoding.ts";
import {
  DatasetError,
  InvalidExpression,
  InvalidStoreMetadata,
  UnknownVariable,
} from "./errors.ts";
import { resolveStoreAddress } from "./store_address.ts";
import { readStoreMetadata, type StoredArray } from "./store_metadata.ts";
import { StoreReader } from "./store_reader.ts";

/** Settings of {@link openDataset}. */
export interface OpenDatasetOptions {
  /**
   * The object store's address for `s3://bucket/path` URLs, e.g.
   * `"https://s3.central.data.destination-earth.eu"` (read path-style, anonymously).
   */
  readonly endpoint?: string | URL;
  /** Budget of each request in milliseconds. Default 30 000. */
  readonly timeoutMs?: number;
  /**
   * 1-D coordinates with at most this many values are read and decoded here (one request per
   * chunk). Default 1 000 000; 0 reads none.
   */
  readonly coordinateLimit?: number;
  /** The `fetch` for HTTP stores. Default: the global one. */
  readonly fetch?: typeof fetch;
}

/** A coordinate of a dataset: its description and, when small and 1-D, its decoded values. */
export interface Coordinate extends VariableInfo {
  /** Decoded values: numbers, or `Date`s for times. Absent when not read (see `coordinateLimit`). */
  readonly values?: CoordinateValues;
}

/** What a dataset is made of (see {@link Dataset}). */
export interface DatasetContents {
  /** The store's URL or absolute path, as the cluster opens it. */
  readonly url: string;
  /** The store's Zarr format. */
  readonly zarrFormat: 2 | 3;
  /** Whether the store has consolidated metadata. */
  readonly consolidated: boolean;
  /** The dataset's attributes (DEDL's: `location`, `resolution`, …). */
  readonly attrs: Readonly<Record<string, unknown>>;
  /** Data variables by name. */
  readonly variables: Readonly<Record<string, VariableInfo>>;
  /** Coordinates by name. */
  readonly coords: Readonly<Record<string, Coordinate>>;
}

/**
 * A Zarr dataset's description, read on the client (nothing is computed), as xarray's
 * `open_zarr` reports it; `var(name)` starts a lazy expression computed at the dataset's site.
 */
export class Dataset implements DatasetContents {
  readonly url: string;
  readonly zarrFormat: 2 | 3;
  readonly consolidated: boolean;
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly variables: Readonly<Record<string, VariableInfo>>;
  readonly coords: Readonly<Record<string, Coordinate>>;

  /** @internal Made by {@link openDataset}. */
  constructor(contents: DatasetContents) {
    this.url = contents.url;
    this.zarrFormat = contents.zarrFormat;
    this.consolidated = contents.consolidated;
    this.attrs = contents.attrs;
    this.variables = contents.variables;
    this.coords = contents.coords;
  }

  /** The site named by the `location` attribute, if any. */
  get location(): string | undefined {
    const location = this.attrs.location;
    return typeof location === "string" && location !== "" ? location : undefined;
  }

  /** Length of every dimension. */
  get dims(): Readonly<Record<string, number>> {
    const dims: Record<string, number> = {};
    for (const v of [...Object.values(this.variables), ...Object.values(this.coords)]) {
      v.dims.forEach((d, i) => dims[d] = v.shape[i]);
    }
    return dims;
  }

  /**
   * The variable (or non-dimension coordinate) `name` as a lazy expression:
   * `xarray.open_zarr(url)[name]` on the cluster, carrying the dataset's attributes (its
   * `location` routes it).
   * @throws {UnknownVariable} when the dataset has no such variable.
   * @throws {InvalidExpression} for a dimension coordinate (its values are in `coords`).
   */
  var(name: string): ArrayExpr {
    const info = Object.hasOwn(this.variables, name)
      ? this.variables[name]
      : Object.hasOwn(this.coords, name)
      ? this.coords[name]
      : undefined;
    if (!info) {
      throw new UnknownVariable(this.url, name, [
        ...Object.keys(this.variables),
        ...Object.keys(this.coords),
      ]);
    }
    if (info.dims.length === 1 && info.dims[0] === name) {
      // xarray holds dimension coordinates in memory (pandas indexes), not as Dask arrays.
      throw new InvalidExpression(
        `var("${name}"): ${name} is a dimension coordinate of ${this.url}; its values are read ` +
          `here already: coords.${name}.values`,
      );
    }
    return new ArrayExpr(
      this.#open().item(name),
      { names: info.dims, shape: info.shape },
      this.attrs,
      `${name} of ${this.url}`,
    );
  }

  #open(): Node {
    return py.call("xarray.open_zarr", this.url, py.kwargs({ consolidated: this.consolidated }));
  }
}

/**
 * Reads a Zarr store's metadata here — Zarr v2 (consolidated or not) and v3 — and describes it
 * as xarray's `open_zarr` would: variables with dims, shape, dtype, chunks and attributes,
 * coordinates (1-D ones decoded, times as `Date`s), and the dataset's attributes.
 *
 * ```ts
 * const ds = await openDataset("https://s3.central.data.destination-earth.eu/…/flood.zarr");
 * ds.location;                 // "central"
 * ds.variables.flood.dims;     // ["time", "y", "x"]
 * ds.coords.time.values;       // [Date, …]
 * const area = ds.var("flood").sum().mul(20 * 20).div(1000);
 * ```
 *
 * A store without consolidated metadata is listed: a local folder, or by S3 `ListObjectsV2` on
 * a path-style URL. Over HTTP the cluster's xarray cannot list it, so only consolidated stores
 * (all of DEDL's) can be computed from an HTTP URL.
 * @param url `https://` / `http://` URL, `s3://bucket/path` (with `options.endpoint`),
 *   `file://` URL or local path.
 * @throws {InvalidStoreUrl} when the URL cannot be used.
 * @throws {StoreUnreachable} when the store does not answer (network, timeout, HTTP error).
 * @throws {StoreNotFound} when there is no Zarr group at the URL.
 * @throws {InvalidStoreMetadata} when the metadata is malformed or cannot be listed.
 */
export async function openDataset(
  url: string | URL,
  options: OpenDatasetOptions = {},
): Promise<Dataset> {
  const address = resolveStoreAddress(url, options.endpoint);
  const reader = new StoreReader(address, {
    timeoutMs: options.timeoutMs ?? 30_000,
    fetch: options.fetch,
  });
  const group = await readStoreMetadata(reader);
  const decodings = new Map<string, CfDecoding>(
    group.arrays.map((a) => [a.name, cfDecoding(a, group.format)]),
  );
  const coordNames = coordinateNames(group.arrays, group.attrs);
  const limit = options.coordinateLimit ?? 1_000_000;
  const variables: Record<string, VariableInfo> = {};
  const coords: Record<string, Coordinate> = {};
  await Promise.all(group.arrays.map(async (array) => {
    const decoding = decodings.get(array.name)!;
    if (!coordNames.has(array.name)) {
      variables[array.name] = decoding.info;
      return;
    }
    let values: CoordinateValues | undefined;
    if (array.shape.length === 1 && array.shape[0] <= limit) {
      let raw: ArrayLike<unknown>;
      try {
        raw = await array.read();
      } catch (e) {
        if (e instanceof DatasetError) throw e;
        throw new InvalidStoreMetadata(
          address.url,
          `cannot decode coordinate ${JSON.stringify(array.name)}: ${(e as Error).message}`,
          { cause: e },
        );
      }
      values = decodeValues(decoding, raw);
    }
    coords[array.name] = values ? { ...decoding.info, values } : decoding.info;
  }));
  return new Dataset({
    url: address.url,
    zarrFormat: group.format,
    consolidated: group.consolidated,
    attrs: group.attrs,
    variables: sortedByName(variables),
    coords: sortedByName(coords),
  });
}

/**
 * The arrays xarray makes coordinates: those named like their only dimension, and those listed
 * in a `coordinates` attribute (CF, `decode_coords=True`).
 */
function coordinateNames(
  arrays: readonly StoredArray[],
  attrs: Readonly<Record<string, unknown>>,
): Set<string> {
  const names = new Set<string>();
  const listed = [attrs.coordinates, ...arrays.map((a) => a.attrs.coordinates)];
  for (const text of listed) {
    if (typeof text === "string") { for (const n of text.split(/\s+/)) if (n) names.add(n); }
  }
  for (const a of arrays) if (a.dims.length === 1 && a.dims[0] === a.name) names.add(a.name);
  return new Set(arrays.map((a) => a.name).filter((n) => names.has(n)));
}

function sortedByName<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a < b ? -1 : 1));
}
