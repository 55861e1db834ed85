/**
 * How a benchmark child process (ours) talks to the bench runner: its configuration arrives as
 * one JSON line on stdin, each report leaves as one JSON line on stdout, and the last report
 * carries the process's peak RSS — the kernel's high-water mark (`VmHWM`) together with the
 * highest `Deno.memoryUsage().rss` sampled every few milliseconds.
 * @module
 */

/** Samples RSS from the moment this module loads. */
let sampledPeak = Deno.memoryUsage().rss;
const sampler = setInterval(() => {
  sampledPeak = Math.max(sampledPeak, Deno.memoryUsage().rss);
}, 5);
Deno.unrefTimer(sampler);

/**
 * Reads the configuration line the runner wrote to stdin. Plain `Deno.stdin.read` rather than a
 * stream pipeline, whose first use costs a cold start ~10 ms that Python's `readline` does not.
 */
export async function readConfig<T>(): Promise<T> {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const buf = new Uint8Array(64 * 1024);
    const n = await Deno.stdin.read(buf);
    if (n === null) break;
    chunks.push(buf.subarray(0, n));
    if (buf.subarray(0, n).includes(10)) break;
  }
  const decoder = new TextDecoder();
  const text = chunks.map((c, i) => decoder.decode(c, { stream: i < chunks.length - 1 })).join("");
  return JSON.parse(text.split("\n")[0]) as T;
}

/** Writes one report line. */
export function emit(event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ event, ...fields }) + "\n";
  Deno.stdout.writeSync(new TextEncoder().encode(line));
}

/** The final report: peak RSS in KiB as the kernel and the sampler saw it. */
export function emitDone(): void {
  sampledPeak = Math.max(sampledPeak, Deno.memoryUsage().rss);
  const status = Deno.readTextFileSync("/proc/self/status");
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  emit("done", { peak_rss_kib: hwm, sampled_peak_rss_kib: Math.round(sampledPeak / 1024) });
}
