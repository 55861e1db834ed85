/**
 * Times as JavaScript `Date`s: CF-encoded times in a store (`units: "days since 2022-08-20"`)
 * and numpy `datetime64` arrays computed on a cluster. `Date` has millisecond precision; finer
 * parts are dropped. A missing time (NaT, a fill value) is an invalid `Date` (`getTime()` is NaN).
 * @module
 */
import type { NDArray } from "../../protocol/mod.ts";

/** A CF time encoding: `value × unitMs + epochMs` is the time in milliseconds since 1970. */
export interface CfTimeEncoding {
  /** Milliseconds per unit of the stored numbers. */
  readonly unitMs: number;
  /** The reference time (`since …`) in milliseconds since 1970-01-01T00:00:00Z. */
  readonly epochMs: number;
}

/** Milliseconds per CF time unit, by the plural names xarray accepts (`day` counts as `days`). */
const UNIT_MS: Record<string, number> = {
  nanoseconds: 1e-6,
  microseconds: 1e-3,
  milliseconds: 1,
  seconds: 1000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
};

/** Calendars that JavaScript's (proleptic Gregorian) `Date` represents exactly. */
const GREGORIAN = new Set(["standard", "gregorian", "proleptic_gregorian"]);

const REFERENCE =
  /^(-?\d{1,4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?$/i;

/**
 * The encoding of a CF `units` attribute such as `"hours since 2022-08-20 00:00:00"`, or
 * `undefined` when it is not a time (no `since`), names an unknown unit, or uses a calendar that
 * `Date` cannot represent (e.g. `noleap`, which xarray decodes to cftime objects).
 */
export function parseCfTimeUnits(units: unknown, calendar?: unknown): CfTimeEncoding | undefined {
  if (typeof units !== "string") return undefined;
  if (calendar !== undefined && !GREGORIAN.has(String(calendar).toLowerCase())) return undefined;
  const m = /^\s*([a-zA-Z]+)\s+since\s+(.+?)\s*$/.exec(units);
  if (!m) return undefined;
  let unit = m[1].toLowerCase();
  if (!unit.endsWith("s")) unit += "s";
  const unitMs = UNIT_MS[unit];
  const ref = REFERENCE.exec(m[2]);
  if (unitMs === undefined || !ref) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", zone] = ref;
  const seconds = Number(s);
  // Date.UTC maps years 0..99 to 1900..1999: start in a leap year, then set the year.
  const date = new Date(Date.UTC(2000, Number(mo) - 1, Number(d), Number(h), Number(mi), 0));
  date.setUTCFullYear(Number(y));
  const epochMs = date.getTime() + seconds * 1000 - zoneOffsetMs(zone);
  return Number.isFinite(epochMs) ? { unitMs, epochMs } : undefined;
}

function zoneOffsetMs(zone: string | undefined): number {
  if (!zone || /^(Z|UTC|GMT)$/i.test(zone)) return 0;
  const m = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone)!;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return (m[1] === "-" ? -1 : 1) * minutes * 60_000;
}

/** Dates of stored CF time values; `missing` values (fill values) become invalid dates. */
export function cfTimesToDates(
  values: ArrayLike<number | bigint>,
  encoding: CfTimeEncoding,
  missing: ReadonlySet<number | bigint> = new Set(),
): Date[] {
  const out = new Array<Date>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = missing.has(v) || (typeof v === "number" && Number.isNaN(v))
      ? new Date(NaN)
      : new Date(encoding.epochMs + Number(v) * encoding.unitMs);
  }
  return out;
}

/** numpy's NaT: the smallest int64. */
const NAT = -(2n ** 63n);

/** Milliseconds per numpy datetime64 unit. */
const DATETIME64_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  D: 86_400_000,
  W: 7 * 86_400_000,
};

/** Whether an array holds numpy `datetime64` values (dtype `<M8[unit]`). */
export function isDatetime64(array: NDArray): boolean {
  return /^[<>|=]M8\[/.test(array.dtype);
}

/**
 * The dates of a numpy `datetime64` array, flattened in C order (NaT → invalid date).
 * @throws {RangeError} for a unit `Date` cannot express (months, years, sub-ns multiples).
 */
export function datetime64ToDates(array: NDArray): Date[] {
  const unit = /\[(\w+)\]$/.exec(array.dtype)?.[1] ?? "";
  const ms = DATETIME64_MS[unit];
  if (ms === undefined) throw new RangeError(`datetime64 unit [${unit}] is not supported`);
  const flat = array.ndim === 0 ? [array.get()] : (array.toNested() as unknown[]).flat(Infinity);
  return flat.map((v) => {
    const n = v as bigint;
    if (n === NAT) return new Date(NaN);
    // Split into whole milliseconds and a remainder so that large ns counts stay exact.
    if (ms < 1) {
      const per = BigInt(Math.round(1 / ms));
      return new Date(Number(n / per) + Number(n % per) / Number(per));
    }
    return new Date(Number(n) * ms);
  });
}
