/**
 * The raw metadata of a Zarr group as xarray reads it: the group's attributes and its top-level
 * arrays (dimension names, shape, chunks, data type, attributes, fill value), read with zarrita
 * from Zarr v2 (consolidated `.zmetadata`, or `.zgroup` + listing) and Zarr v3 (`zarr.json`,
 * with or without zarr-python's inline consolidated metadata). zarrita is loaded on first use,
 * so importing this module costs nothing.
 * @module
 */
import type * as Zarrita from "npm:zarrita@0.7.5";
import { DatasetError, InvalidStoreMetadata, StoreNotFound } from "./errors.ts";
import type { StoreKey, StoreReader } from "./store_reader.ts";

type Zarr = typeof Zarrita;
let zarrita: Promise<Zarr> | undefined;

/** zarrita, imported once. */
function loadZarrita(): Promise<Zarr> {
  return zarrita ??= import("npm:zarrita@0.7.5");
}

/** One array of the group, as stored (no CF decoding). */
export interface StoredArray {
  /** Its name in the group. */
  readonly name: string;
  /** Dimension names (`_ARRAY_DIMENSIONS` in v2, `dimension_names` in v3). */
  readonly dims: readonly string[];
  /** Length of each dimension. */
  readonly shape: readonly number[];
  /** Chunk shape. */
  readonly chunks: readonly number[];
  /** zarrita's data type name: `float32`, `int64`, `bool`, `v2:U5`, … */
  readonly dataType: string;
  /** Attributes as stored (without `_ARRAY_DIMENSIONS`). */
  readonly attrs: Readonly<Record<string, unknown>>;
  /** The Zarr fill value (`null` when none). */
  readonly fillValue: unknown;
  /** Reads every element (C order) through zarrita's codecs. */
  read(): Promise<ArrayLike<unknown>>;
}

/** A Zarr group as read from the store. */
export interface StoredGroup {
  /** Zarr format of the store. */
  readonly format: 2 | 3;
  /** Whether the metadata came from one consolidated document. */
  readonly consolidated: boolean;
  /** The group's attributes. */
  readonly attrs: Readonly<Record<string, unknown>>;
  /** Its top-level arrays, by name order. */
  readonly arrays: readonly StoredArray[];
}

/**
 * Reads the group at the root of the store.
 * @throws {StoreNotFound} when the store holds no Zarr group.
 * @throws {InvalidStoreMetadata} when its metadata is malformed or cannot be listed.
 * @throws {StoreUnreachable} when the store cannot be read.
 */
export async function readStoreMetadata(reader: StoreReader): Promise<StoredGroup> {
  const zarr = await loadZarrita();
  const store = new MetadataCache(reader);
  // Both formats' root documents at once: one round trip for either kind of store.
  const [zmetadata, zarrJson] = await Promise.all([
    store.get("/.zmetadata"),
    store.get("/zarr.json"),
  ]);
  try {
    if (zarrJson && parseJson(zarrJson, "zarr.json", reader.url).node_type === "group") {
      return await readV3(zarr, store, reader, zarrJson);
    }
    if (zmetadata) {
      const consolidated = await zarr.withConsolidatedMetadata(store, { format: "v2" });
      const names = consolidated.contents()
        .filter((c) => c.kind === "array" && /^\/[^/]+$/.test(c.path))
        .map((c) => c.path.slice(1));
      return await readGroup(zarr, consolidated, names, 2, true, reader.url);
    }
    if (await store.get("/.zgroup")) {
      return await readGroup(zarr, store, await reader.listChildren(), 2, false, reader.url);
    }
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    throw new InvalidStoreMetadata(reader.url, (e as Error).message, { cause: e });
  }
  if (zarrJson || (await store.get("/.zarray"))) {
    throw new StoreNotFound(
      reader.url,
      "it is a single Zarr array, not a group of variables; open the group that contains it",
    );
  }
  throw new StoreNotFound(
    reader.url,
    "found none of .zmetadata, zarr.json or .zgroup" +
      (reader.forbidden
        ? " (the server refused some reads with 403 Forbidden: is the bucket public and the " +
          "path right?)"
        : "; check the path"),
  );
}

async function readV3(
  zarr: Zarr,
  store: MetadataCache,
  reader: StoreReader,
  zarrJson: Uint8Array,
): Promise<StoredGroup> {
  const root = parseJson(zarrJson, "zarr.json", reader.url);
  if (root.consolidated_metadata && typeof root.consolidated_metadata === "object") {
    const consolidated = await zarr.withConsolidatedMetadata(store, { format: "v3" });
    const names = consolidated.contents()
      .filter((c) => c.kind === "array" && /^\/[^/]+$/.test(c.path))
      .map((c) => c.path.slice(1));
    return await readGroup(zarr, consolidated, names, 3, true, reader.url);
  }
  return await readGroup(zarr, store, await reader.listChildren(), 3, false, reader.url);
}

async function readGroup(
  zarr: Zarr,
  store: Zarrita.Readable,
  names: readonly string[],
  format: 2 | 3,
  consolidated: boolean,
  url: string,
): Promise<StoredGroup> {
  const open = format === 2 ? zarr.open.v2 : zarr.open.v3;
  const group = await open(store, { kind: "group" });
  const arrays = await Promise.all(names.map(async (name) => {
    try {
      return storedArray(zarr, await open(group.resolve(name), { kind: "array" }), name, url);
    } catch (e) {
      // A listed folder that is no array (a sub-group, stray files): xarray skips it too.
      if (!consolidated && e instanceof zarr.NotFoundError) return undefined;
      throw e;
    }
  }));
  const stored = arrays.filter((a) => a !== undefined);
  stored.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { format, consolidated, attrs: { ...group.attrs }, arrays: stored };
}

function storedArray(
  zarr: Zarr,
  array: Zarrita.Array<Zarrita.DataType, Zarrita.Readable>,
  name: string,
  url: string,
): StoredArray {
  const { _ARRAY_DIMENSIONS: _, ...attrs } = array.attrs;
  // A 0-d array has no dimensions to name (zarr-python writes no dimension_names for it).
  const dims = array.shape.length === 0 ? [] : array.dimensionNames;
  if (!dims || dims.length !== array.shape.length || dims.some((d) => typeof d !== "string")) {
    throw new InvalidStoreMetadata(
      url,
      `array ${JSON.stringify(name)} has no dimension names (_ARRAY_DIMENSIONS in Zarr v2, ` +
        "dimension_names in v3), which xarray needs",
    );
  }
  return {
    name: name,
    dims,
    shape: array.shape,
    chunks: array.chunks,
    dataType: array.dtype,
    attrs,
    fillValue: array.fillValue,
    read: async () => (await zarr.get(array)).data as ArrayLike<unknown>,
  };
}

function parseJson(bytes: Uint8Array, key: string, url: string): Record<string, unknown> {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes));
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch (e) {
    throw new InvalidStoreMetadata(url, `${key} is not JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
  throw new InvalidStoreMetadata(url, `${key} is not a JSON object`);
}

/** The store as zarrita reads it, keeping metadata documents so that none is read twice. */
class MetadataCache implements Zarrita.AsyncReadable {
  readonly #reader: StoreReader;
  readonly #documents = new Map<string, Promise<Uint8Array | undefined>>();

  constructor(reader: StoreReader) {
    this.#reader = reader;
  }

  get(key: StoreKey): Promise<Uint8Array | undefined> {
    if (!/(^|\/)(\.zmetadata|\.zgroup|\.zattrs|\.zarray|zarr\.json)$/.test(key)) {
      return this.#reader.get(key);
    }
    let document = this.#documents.get(key);
    if (!document) {
      document = this.#reader.get(key);
      this.#documents.set(key, document);
    }
    return document;
  }
}
