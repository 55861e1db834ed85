/**
 * What xarray makes of a stored array with its default CF decoding (`mask_and_scale`,
 * `decode_times`): the dtype it reports and the attributes it keeps (encoding attributes such as
 * `_FillValue`, `scale_factor`, a time's `units` and `calendar` move out of `attrs`), and the
 * decoded values of small coordinates (masked, scaled, times as `Date`s).
 *
 * Mirrors xarray's `CFMaskCoder`, `CFScaleOffsetCoder`, `BooleanCoder` and `CFDatetimeCoder`
 * (xarray/coding/variables.py and times.py, 2024.11 – 2026.x). Not decoded: timedeltas
 * (`units: "days"` without `since`; xarray's default for them changed across versions),
 * non-Gregorian calendars (xarray gives cftime objects), `_Unsigned`.
 * @module
 */
import { NDArray, type NDArrayData } from "../../protocol/mod.ts";
import type { StoredArray } from "./store_metadata.ts";
import { type CfTimeEncoding, cfTimesToDates, parseCfTimeUnits } from "./time_values.ts";

/** One variable of a dataset as xarray describes it after decoding. */
export interface VariableInfo {
  /** Dimension names. */
  readonly dims: readonly string[];
  /** Length of each dimension. */
  readonly shape: readonly number[];
  /** numpy dtype name after decoding: `float32`, `int64`, `datetime64[ns]`, `bool`, … */
  readonly dtype: string;
  /** The store's chunk shape (xarray's `encoding["chunks"]`). */
  readonly chunks: readonly number[];
  /** Attributes, without the encoding ones that xarray hides. */
  readonly attrs: Readonly<Record<string, unknown>>;
}

/** Decoded coordinate values: numbers (an {@link NDArray}) or times (`Date`s). */
export type CoordinateValues = NDArray | readonly Date[];

/** Attributes that describe the encoding; xarray moves them from `attrs` to `encoding`. */
const ENCODING_ATTRS = ["_FillValue", "missing_value", "scale_factor", "add_offset", "coordinates"];

/** How to decode one stored array. */
export interface CfDecoding {
  /** The description xarray would give. */
  readonly info: VariableInfo;
  /** The time encoding when the values are CF times. */
  readonly time?: CfTimeEncoding;
  /** Stored values that mean "missing". */
  readonly missing: ReadonlySet<number | bigint>;
  /** `scale_factor` and `add_offset` when the data is packed. */
  readonly scale?: number;
  /** See {@link scale}. */
  readonly offset?: number;
}

/**
 * The decoding of a stored array. `format` matters for the fill value: Zarr v2's `fill_value`
 * is xarray's `_FillValue` (a mask), v3's is not (xarray reads `_FillValue` from the attributes).
 */
export function cfDecoding(stored: StoredArray, format: 2 | 3): CfDecoding {
  const raw = stored.attrs;
  const attrs: Record<string, unknown> = { ...raw };
  for (const key of ENCODING_ATTRS) delete attrs[key];
  const storedType = numpyName(stored.dataType);
  const missing = new Set<number | bigint>();
  const fills = [
    format === 2 ? stored.fillValue : undefined,
    raw._FillValue,
    ...(Array.isArray(raw.missing_value) ? raw.missing_value : [raw.missing_value]),
  ];
  for (const f of fills) {
    if (typeof f === "number" && !Number.isNaN(f)) {
      missing.add(isBigIntType(storedType) ? BigInt(Math.trunc(f)) : f);
    } else if (typeof f === "bigint") missing.add(f);
  }
  const hasFill = fills.some((f) => f !== undefined && f !== null);
  const scale = typeof raw.scale_factor === "number" ? raw.scale_factor : undefined;
  const offset = typeof raw.add_offset === "number" ? raw.add_offset : undefined;

  const time = parseCfTimeUnits(raw.units, raw.calendar);
  let dtype = storedType;
  if (time && /^u?int|^float/.test(storedType)) {
    dtype = "datetime64[ns]";
    delete attrs.units;
    delete attrs.calendar;
  } else if (scale !== undefined || offset !== undefined) {
    dtype = packedFloatType(scale, offset);
  } else if (hasFill && /^u?int/.test(storedType)) {
    dtype = itemsize(storedType) <= 2 ? "float32" : "float64";
  } else if (raw.dtype === "bool" && /^u?int|^bool/.test(storedType)) {
    dtype = "bool";
    delete attrs.dtype;
  } else if (hasFill && storedType === "float16") {
    dtype = "float32";
  }
  return {
    info: {
      dims: stored.dims,
      shape: stored.shape,
      dtype,
      chunks: stored.chunks,
      attrs,
    },
    time: dtype === "datetime64[ns]" ? time : undefined,
    missing,
    scale,
    offset,
  };
}

/**
 * Decodes the values of a 1-D stored array: times → `Date`s, masked values → NaN, packed
 * values → scaled floats, others as stored. `undefined` for values this library does not decode
 * (strings, objects, booleans).
 */
export function decodeValues(
  decoding: CfDecoding,
  values: ArrayLike<unknown>,
): CoordinateValues | undefined {
  const { info, time, missing, scale, offset } = decoding;
  if (!isNumeric(values)) return undefined;
  if (time) return cfTimesToDates(values, time, missing);
  if (info.dtype === "float32" || info.dtype === "float64") {
    if (missing.size === 0 && scale === undefined && offset === undefined) {
      if (values instanceof Float64Array || values instanceof Float32Array) {
        return NDArray.from(values);
      }
    }
    const out = info.dtype === "float32"
      ? new Float32Array(values.length)
      : new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      out[i] = missing.has(v) ? NaN : Number(v) * (scale ?? 1) + (offset ?? 0);
    }
    return NDArray.from(out);
  }
  return NDArray.from(values as NDArrayData);
}

/** numpy's name for a zarrita data type (`v2:U5` → `<U5`, `v2:object` → `object`). */
function numpyName(dataType: string): string {
  if (dataType === "v2:object" || dataType === "string") return "object";
  const m = /^v2:([US])(\d+)$/.exec(dataType);
  if (m) return `${m[1] === "U" ? "<" : "|"}${m[1]}${m[2]}`;
  return dataType;
}

function itemsize(numpyType: string): number {
  return Number(/(\d+)$/.exec(numpyType)?.[1] ?? 64) / 8;
}

function isBigIntType(numpyType: string): boolean {
  return numpyType === "int64" || numpyType === "uint64";
}

/** xarray's `_choose_float_dtype` with JSON numbers (integral → int64, else float64). */
function packedFloatType(scale?: number, offset?: number): string {
  const typeOf = (n: number) => Number.isInteger(n) ? "int64" : "float64";
  if (scale !== undefined && offset !== undefined && typeOf(scale) === typeOf(offset)) {
    if (typeOf(scale) === "float64") return "float64";
  }
  if (offset !== undefined) return "float64";
  return typeOf(scale!);
}

function isNumeric(values: ArrayLike<unknown>): values is NDArrayData {
  return ArrayBuffer.isView(values) && !(values instanceof DataView);
}
