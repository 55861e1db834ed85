/**
 * Printing bench figures: one table per bench as it finishes, and at the end a Markdown summary
 * (the README's bench table) with the machine it ran on. Figures only — nothing is asserted.
 * @module
 */
import { median } from "./harness.ts";

/** One figure compared between ours and Python's. */
export interface SummaryRow {
  /** Which bench and what was measured. */
  readonly figure: string;
  /** Ours, formatted (median and range). */
  readonly ours: string;
  /** Python's, formatted. */
  readonly python: string;
  /** The ratio the target is about, formatted. */
  readonly ratio: string;
  /** The target, e.g. `<= 0.2`. */
  readonly target: string;
  /** Whether the median meets the target: "yes", "no" or "-" (no target). */
  readonly met: string;
  /** Peak RSS of ours and Python's processes (medians), formatted. */
  readonly peakRss: string;
}

/** Collects the summary rows of all benches. */
export class Summary {
  readonly rows: SummaryRow[] = [];

  add(row: SummaryRow): void {
    this.rows.push(row);
    const widths = [44, 24, 24, 10, 8, 4];
    const cells = [row.figure, row.ours, row.python, row.ratio, row.target, row.met];
    console.log(
      cells.map((c, i) => c.padEnd(widths[i])).join(" ") + ` rss ${row.peakRss}`,
    );
  }

  /** The Markdown table of every row. */
  markdown(): string {
    const header = [
      "| Figure | dedl-dask | Python | ours/Python | Target | Met | Peak RSS ours / Python |",
      "|---|---|---|---|---|---|---|",
    ];
    return [
      ...header,
      ...this.rows.map((r) =>
        `| ${r.figure} | ${r.ours} | ${r.python} | ${r.ratio} | ${r.target} | ${r.met} | ${r.peakRss} |`
      ),
    ].join("\n");
  }
}

/** "median (min–max) unit" for a series. */
export function spread(values: readonly number[], unit: string, digits = 0): string {
  if (values.length === 0) return "-";
  const m = median(values).toFixed(digits);
  if (values.length === 1) return `${m} ${unit}`;
  const lo = Math.min(...values).toFixed(digits);
  const hi = Math.max(...values).toFixed(digits);
  return `${m} ${unit} (${lo}–${hi})`;
}

/** Peak RSS medians of both sides in MiB. */
export function peaks(ours: readonly number[], python: readonly number[]): string {
  const mib = (kib: readonly number[]) =>
    kib.length ? `${(median(kib) / 1024).toFixed(0)} MiB` : "-";
  return `${mib(ours)} / ${mib(python)}`;
}

/** "yes"/"no" for a ratio against `<= max` or `>= min`. */
export function meets(ratio: number, target: { max?: number; min?: number }): string {
  if (!Number.isFinite(ratio)) return "-";
  if (target.max !== undefined && ratio > target.max) return "no";
  if (target.min !== undefined && ratio < target.min) return "no";
  return "yes";
}

/** The machine: CPU model, cores, memory, load, runtime versions. */
export async function machineDescription(python: string): Promise<string[]> {
  const run = async (cmd: string, args: string[]) => {
    try {
      const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
      return new TextDecoder().decode(out.stdout).trimEnd();
    } catch {
      return "?";
    }
  };
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? "?";
  const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ").slice(0, 3);
  const versions = await run(python, [
    "-c",
    "import sys, distributed, dask_gateway, numpy; print(sys.version.split()[0], " +
    "distributed.__version__, dask_gateway.__version__, numpy.__version__)",
  ]);
  const [py, dist, dg, np] = versions.split(" ");
  return [
    `CPU: ${model}, nproc ${await run("nproc", [])}, load average ${load.join(" ")} at start`,
    `Memory (free -h):`,
    ...(await run("free", ["-h"])).split("\n").map((l) => `    ${l}`),
    `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}); Python ${py}, distributed ${dist}, ` +
    `dask-gateway ${dg}, numpy ${np}`,
  ];
}
