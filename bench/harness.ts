/**
 * The bench runner's machinery: every measurement runs in a fresh child process — ours
 * (`deno run`) or Python's (the replica's environment) — that reports JSON lines; the two are
 * alternated repetition by repetition so that drift on a shared machine hits both alike.
 * @module
 */
import { fileURLToPath } from "node:url";

/** Which client a measurement ran. */
export type Impl = "ours" | "python";

/** One child process's reports. */
export interface ChildRun {
  /** Milliseconds from spawning the process to its `result` report. */
  readonly untilResultMs: number;
  /** The `result` report. */
  readonly result: Record<string, unknown>;
  /** Every report, in order. */
  readonly events: readonly Record<string, unknown>[];
  /** Peak RSS of the process in KiB (`VmHWM` / `ru_maxrss`). */
  readonly peakRssKiB: number;
  /** Share of the machine's CPU time (all cores) busy from spawn to `result`, 0..1. */
  readonly machineBusy: number;
}

/** How to start a child: a Deno script of ours or a mode of the Python child. */
export interface ChildSpec {
  readonly impl: Impl;
  /** For ours: the script under `bench/children/`; for Python: ignored. */
  readonly script?: string;
  /** For Python: the script under `bench/children/`. Default `python_client.py`. */
  readonly pythonScript?: string;
  /** Arguments (the mode). */
  readonly args: readonly string[];
  /** Sent as one JSON line on stdin (may hold a token: never printed). */
  readonly config: unknown;
  /** Kill the child after this long. Default 300 000 ms. */
  readonly timeoutMs?: number;
  /** Called for each report as it arrives (e.g. to track clusters a child started). */
  readonly onEvent?: (event: Record<string, unknown>) => void;
}

/** Root of the repository (children run there, so that `deno.json` applies). */
export const REPO_ROOT: string = fileURLToPath(new URL("../", import.meta.url));
const STDERR_TAIL = 4000;

/** Runs one child to completion and returns its reports. */
export async function runChild(python: string, spec: ChildSpec): Promise<ChildRun> {
  const [command, args] = spec.impl === "ours"
    ? [
      Deno.execPath(),
      [
        "run",
        "-A",
        fileURLToPath(new URL(`./children/${spec.script}`, import.meta.url)),
        ...spec.args,
      ],
    ]
    : [
      python,
      [
        fileURLToPath(
          new URL(`./children/${spec.pythonScript ?? "python_client.py"}`, import.meta.url),
        ),
        ...spec.args,
      ],
    ];
  const started = performance.now();
  const cpuAtStart = cpuTimes();
  let machineBusy = NaN;
  const child = new Deno.Command(command, {
    args,
    cwd: REPO_ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(spec.config) + "\n"));
  await writer.close();

  let stderr = "";
  const stderrDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void (stderr = (stderr + text).slice(-STDERR_TAIL)) }),
  ).catch(() => {});
  const events: Record<string, unknown>[] = [];
  let untilResultMs = NaN;
  const stdoutDone = (async () => {
    let partial = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        const event = parseReport(line);
        if (!event) continue;
        if (event.event === "result" && Number.isNaN(untilResultMs)) {
          untilResultMs = performance.now() - started;
          machineBusy = busyShare(cpuAtStart, cpuTimes());
        }
        events.push(event);
        spec.onEvent?.(event);
      }
    }
  })();

  const timeoutMs = spec.timeoutMs ?? 300_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    // SIGINT first: children that started clusters stop them on the way out.
    signal(child, "SIGINT");
    setTimeout(() => signal(child, "SIGKILL"), 30_000);
  }, timeoutMs);
  const status = await child.status;
  clearTimeout(timer);
  await Promise.all([stdoutDone, stderrDone]);

  const script = spec.impl === "ours" ? spec.script : spec.pythonScript ?? "python_client.py";
  const what = `${spec.impl} ${script} ${spec.args.join(" ")}`;
  if (timedOut) throw new Error(`${what} did not finish within ${timeoutMs} ms:\n${stderr}`);
  const result = events.find((e) => e.event === "result");
  const done = events.find((e) => e.event === "done");
  if (!status.success || !result || !done) {
    throw new Error(`${what} failed (exit ${status.code}):\n${stderr}`);
  }
  return { untilResultMs, result, events, peakRssKiB: Number(done.peak_rss_kib), machineBusy };
}

/** Busy and total CPU ticks of the whole machine (`/proc/stat`). */
function cpuTimes(): { busy: number; total: number } {
  const fields = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3] + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

function busyShare(a: { busy: number; total: number }, b: { busy: number; total: number }) {
  const total = b.total - a.total;
  return total > 0 ? (b.busy - a.busy) / total : NaN;
}

function parseReport(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined; // library output on stdout
  try {
    const value = JSON.parse(line);
    return value && typeof value === "object" && typeof value.event === "string"
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

function signal(child: Deno.ChildProcess, sig: Deno.Signal): void {
  try {
    child.kill(sig);
  } catch {
    // already exited
  }
}

/**
 * Runs `measure` for both clients `reps` times, alternating which goes first, and returns the
 * measurements per client in run order.
 */
export async function alternate<T>(
  reps: number,
  measure: (impl: Impl, rep: number) => Promise<T>,
): Promise<Record<Impl, T[]>> {
  const out: Record<Impl, T[]> = { ours: [], python: [] };
  for (let rep = 0; rep < reps; rep++) {
    const order: Impl[] = rep % 2 === 0 ? ["ours", "python"] : ["python", "ours"];
    for (const impl of order) out[impl].push(await measure(impl, rep));
  }
  return out;
}

/** The median (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
