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

/** Reads the configuration line the runner wrote to stdin. */
export async function readConfig<T>(): Promise<T> {
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return JSON.parse(text) as T;
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
