/**
 * What `scatter` sends: each value serialized as the workers will hold it, under a key made of
 * its kind and a hash of its serialized form (so scattering equal values twice gives one key).
 * @module
 */
import { NDArray, type NDArrayData } from "../codec/numpy.ts";
import type { PyValue } from "../codec/pickle/python_values.ts";
import { serialize, type Serialized } from "../codec/serialize.ts";

/** A value `Client.scatter` can send: typed arrays and `NDArray`s, or `PyValue` models. */
export type ScatterValue = PyValue | NDArray | NDArrayData;

/** The `data` of a `scatter` RPC, and the keys of the values in their order. */
export interface ScatterData {
  /** Serialized values by key. */
  readonly data: Record<string, Serialized>;
  /** The key of each value. */
  readonly keys: string[];
}

/** Serializes `values` and names each by kind and content. */
export async function scatterData(values: readonly ScatterValue[]): Promise<ScatterData> {
  const data: Record<string, Serialized> = {};
  const keys: string[] = [];
  for (const v of values) {
    const s = serialize(toScatterable(v));
    const key = `${scatterName(v)}-${await digestSerialized(s)}`;
    data[key] = s;
    keys.push(key);
  }
  return { data, keys };
}

const TYPED_ARRAYS = [
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];

function toScatterable(v: ScatterValue): PyValue | NDArray {
  if (TYPED_ARRAYS.some((T) => v instanceof T)) return NDArray.from(v as NDArrayData);
  return v as PyValue | NDArray;
}

function scatterName(v: unknown): string {
  if (v instanceof NDArray || TYPED_ARRAYS.some((T) => v instanceof T)) return "ndarray";
  if (v instanceof Uint8Array) return "bytes";
  if (Array.isArray(v)) return "list";
  if (v === null) return "None";
  return typeof v === "object" ? "object" : typeof v;
}

/** `node:crypto`, loaded on first scatter: Node compatibility costs tens of ms at start-up. */
let nodeCrypto: Promise<typeof import("node:crypto")> | undefined;

/** Hashes natively: scattered payloads can be hundreds of MB. */
async function digestSerialized(s: Serialized): Promise<string> {
  const { createHash } = await (nodeCrypto ??= import("node:crypto"));
  const h = createHash("sha1");
  h.update(JSON.stringify(s.header, (_k, v) => (typeof v === "bigint" ? String(v) : v)));
  for (const f of s.frames) h.update(f);
  return h.digest("hex").slice(0, 32);
}
