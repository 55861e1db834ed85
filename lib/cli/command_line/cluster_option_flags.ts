/**
 * Cluster options given as flags to `dedl-dask new` (`--worker-cores 2 --image x`): each flag
 * names a field of the gateway's option spec (dashes for underscores) and its text is read as the
 * field's type. Whether the value is allowed is then judged by the library against every chosen
 * site's spec, before any cluster is started.
 * @module
 */
import type {
  ClusterOptionsSpec,
  ClusterOptionValue,
  ClusterOptionValues,
  OptionSpec,
} from "../../gateway/mod.ts";
import { InvalidCommandLine } from "../errors.ts";

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const TRUE = new Set(["true", "yes", "on", "1"]);
const FALSE = new Set(["false", "no", "off", "0"]);

/**
 * Reads option flags as cluster option values, typed by `spec` (the first chosen site's).
 * @throws {InvalidCommandLine} for a flag that is neither a flag of `new` nor an option of the site, a
 *   missing value, or a mapping that is not JSON.
 */
export function clusterOptionsFromFlags(
  flags: ReadonlyMap<string, string | true>,
  spec: ClusterOptionsSpec,
  site: string,
): ClusterOptionValues {
  const values: Record<string, ClusterOptionValue> = {};
  for (const [name, raw] of flags) {
    const field = spec.field(name.replaceAll("-", "_"));
    if (!field) {
      const known = spec.fields.map((f) => `--${f.field.replaceAll("_", "-")}`).join(", ");
      throw new InvalidCommandLine(
        `unknown option --${name}: not a flag of 'new' and not a cluster option at ${site} ` +
          `(its options: ${known || "none"})`,
        "new",
      );
    }
    values[field.field] = typed(field.spec, raw, name);
  }
  return values;
}

function typed(spec: OptionSpec, raw: string | true, name: string): ClusterOptionValue {
  if (raw === true) {
    if (spec.type === "bool") return true;
    throw new InvalidCommandLine(`--${name} needs a value`, "new");
  }
  switch (spec.type) {
    case "int":
    case "float":
      // Text that is not a number is passed on as text, for the spec check to name the range.
      return NUMBER.test(raw.trim()) ? Number(raw) : raw;
    case "bool": {
      const word = raw.trim().toLowerCase();
      return TRUE.has(word) ? true : FALSE.has(word) ? false : raw;
    }
    case "mapping":
      try {
        return JSON.parse(raw);
      } catch {
        throw new InvalidCommandLine(
          `--${name} takes a JSON object, e.g. '{"KEY": "value"}'`,
          "new",
        );
      }
    case "unknown":
      try {
        return JSON.parse(raw);
      } catch {
        return raw;
      }
    case "string":
    case "select":
      return raw;
  }
}
