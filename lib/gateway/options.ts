/**
 * Cluster options: the typed form of a gateway's option spec (`GET /api/v1/options`) and the
 * client-side check of a user's options against it, with the same rules as the server
 * (`dask_gateway_server/options.py`), so that a mistake is reported before any cluster request.
 * @module
 */
import { isPlainObject } from "../../base/mod.ts";
import { InvalidOptions, UnexpectedResponse } from "./errors.ts";

/** The type rule of one option, as the gateway publishes it. */
export type OptionSpec =
  /** A whole number; `min`/`max` inclusive, `null` = unbounded. */
  | { readonly type: "int"; readonly min: number | null; readonly max: number | null }
  /** A number (whole numbers accepted); `min`/`max` inclusive, `null` = unbounded. */
  | { readonly type: "float"; readonly min: number | null; readonly max: number | null }
  /** Any string. */
  | { readonly type: "string" }
  /** `true` or `false`. */
  | { readonly type: "bool" }
  /** One of the listed keys. */
  | { readonly type: "select"; readonly options: readonly string[] }
  /** A JSON object. */
  | { readonly type: "mapping" }
  /** A type this client does not know; values are passed on unchecked for the gateway to judge. */
  | { readonly type: "unknown"; readonly serverType: string };

/** A cluster option value as sent to the gateway. */
export type ClusterOptionValue = number | string | boolean | { readonly [key: string]: unknown };

/** Cluster options by field name, e.g. `{ worker_cores: 3, worker_memory: 6 }`. */
export type ClusterOptionValues = Readonly<Record<string, ClusterOptionValue>>;

/** One option of a gateway's spec. */
export interface ClusterOptionField {
  /** The field name sent to the gateway, e.g. `worker_cores`. */
  readonly field: string;
  /** The human label, e.g. `Worker Cores`. */
  readonly label: string;
  /** The gateway's default, as it wrote it (a float field may show a whole number). */
  readonly default: ClusterOptionValue;
  /** Type and bounds. */
  readonly spec: OptionSpec;
}

/** A gateway's cluster options for the current user, with client-side validation. */
export class ClusterOptionsSpec {
  readonly #byName: ReadonlyMap<string, ClusterOptionField>;

  /** Wraps option fields, in the gateway's order (usually built by {@link fromJson}). */
  constructor(readonly fields: readonly ClusterOptionField[]) {
    this.#byName = new Map(fields.map((f) => [f.field, f]));
  }

  /**
   * Reads the body of `GET /api/v1/options`.
   * @throws {UnexpectedResponse} when the body is not a valid option spec.
   */
  static fromJson(body: unknown, url: string): ClusterOptionsSpec {
    const bad = (what: string) =>
      new UnexpectedResponse(url, 200, `the option spec is malformed: ${what}`);
    const list = (body as { cluster_options?: unknown } | null)?.cluster_options;
    if (!Array.isArray(list)) throw bad(`no "cluster_options" list`);
    const fields = list.map((item, i): ClusterOptionField => {
      const f = item as Record<string, unknown> | null;
      if (typeof f?.field !== "string" || !f.field) throw bad(`entry ${i} has no field name`);
      const spec = f.spec as Record<string, unknown> | null;
      if (typeof spec?.type !== "string") throw bad(`${f.field} has no spec type`);
      return {
        field: f.field,
        label: typeof f.label === "string" ? f.label : f.field,
        default: f.default as ClusterOptionValue,
        spec: parseSpec(f.field, spec as Record<string, unknown> & { type: string }, bad),
      };
    });
    return new ClusterOptionsSpec(fields);
  }

  /** The option named `name`, or `undefined`. */
  field(name: string): ClusterOptionField | undefined {
    return this.#byName.get(name);
  }

  /** The gateway's defaults by field name. */
  defaults(): Record<string, ClusterOptionValue> {
    return Object.fromEntries(this.fields.map((f) => [f.field, f.default]));
  }

  /** What `name` accepts, in words (e.g. `an integer from 1 to 10`). */
  allowed(name: string): string {
    const f = this.#byName.get(name);
    if (!f) {
      return `nothing: the gateway has no such option; its options are ` +
        (this.fields.map((x) => x.field).join(", ") || "(none)");
    }
    return describeSpec(f.spec);
  }

  /**
   * Checks options against the spec, as the gateway would.
   * @returns The options to send (unchanged; whole numbers stay whole).
   * @throws {InvalidOptions} naming the first offending field, its value and what is allowed.
   */
  validate(values: ClusterOptionValues): ClusterOptionValues {
    if (!isPlainObject(values)) {
      throw new InvalidOptions(null, values, "an object of option values");
    }
    for (const [name, value] of Object.entries(values)) {
      const f = this.#byName.get(name);
      if (!f || !accepts(f.spec, value)) {
        throw new InvalidOptions(name, value, this.allowed(name));
      }
    }
    return values;
  }

  /** Maps the gateway's 422 message for `sent` options to an {@link InvalidOptions}. */
  serverRefusal(message: string, sent: ClusterOptionValues): InvalidOptions {
    const field = this.#fieldIn(message, sent);
    return new InvalidOptions(
      field,
      field === null ? undefined : sent[field],
      field === null ? null : this.allowed(field),
      message,
    );
  }

  #fieldIn(message: string, sent: ClusterOptionValues): string | null {
    const unknown = /Unknown fields \[\s*'([^']+)'/.exec(message);
    if (unknown) return unknown[1];
    let best: { name: string; at: number } | null = null;
    for (const name of new Set([...this.#byName.keys(), ...Object.keys(sent)])) {
      const at = new RegExp(`(^|[^\\w])${escapeRegExp(name)}([^\\w]|$)`).exec(message)?.index;
      if (at !== undefined && (best === null || at < best.at)) best = { name, at };
    }
    return best?.name ?? null;
  }
}

function parseSpec(
  field: string,
  spec: Record<string, unknown> & { type: string },
  bad: (what: string) => Error,
): OptionSpec {
  const bound = (key: "min" | "max"): number | null => {
    const v = spec[key];
    if (v === null || v === undefined) return null;
    if (typeof v !== "number" || !Number.isFinite(v)) throw bad(`${field}.${key} is not a number`);
    return v;
  };
  switch (spec.type) {
    case "int":
    case "float":
      return { type: spec.type, min: bound("min"), max: bound("max") };
    case "string":
    case "bool":
    case "mapping":
      return { type: spec.type };
    case "select": {
      const options = spec.options;
      if (!Array.isArray(options) || !options.every((o) => typeof o === "string")) {
        throw bad(`${field}.options is not a list of strings`);
      }
      return { type: "select", options };
    }
    default:
      return { type: "unknown", serverType: spec.type };
  }
}

function accepts(spec: OptionSpec, value: unknown): boolean {
  switch (spec.type) {
    case "int":
      return Number.isSafeInteger(value) && inRange(value as number, spec);
    case "float":
      return typeof value === "number" && Number.isFinite(value) && inRange(value, spec);
    case "string":
      return typeof value === "string";
    case "bool":
      return typeof value === "boolean";
    case "select":
      return typeof value === "string" && spec.options.includes(value);
    case "mapping":
      return isPlainObject(value);
    case "unknown":
      return value !== undefined;
  }
}

function inRange(value: number, spec: { min: number | null; max: number | null }): boolean {
  return (spec.min === null || value >= spec.min) && (spec.max === null || value <= spec.max);
}

function describeSpec(spec: OptionSpec): string {
  switch (spec.type) {
    case "int":
      return `an integer${describeRange(spec)}`;
    case "float":
      return `a number${describeRange(spec)}`;
    case "string":
      return "a string";
    case "bool":
      return "true or false";
    case "select":
      return `one of ${spec.options.map((o) => JSON.stringify(o)).join(", ")}`;
    case "mapping":
      return "an object (mapping)";
    case "unknown":
      return `a value of the gateway's type "${spec.serverType}"`;
  }
}

function describeRange(spec: { min: number | null; max: number | null }): string {
  if (spec.min !== null && spec.max !== null) return ` from ${spec.min} to ${spec.max}`;
  if (spec.min !== null) return ` of at least ${spec.min}`;
  if (spec.max !== null) return ` of at most ${spec.max}`;
  return "";
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
