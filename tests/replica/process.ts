/**
 * Background processes of the replica: started detached in their own session (so a signal to the
 * process group reaches every child), with output in a log file, and stopped by PID.
 */

/** Starts `cmd args` detached with stdout and stderr appended to `log`; returns its PID (= PGID). */
export async function spawnDetached(
  cmd: string,
  args: string[],
  opts: { log: string; cwd?: string; env?: Record<string, string> },
): Promise<number> {
  // bash does the redirection and setsid; Deno.Command cannot send output to a file by itself.
  const script = 'log="$1"; shift; setsid "$@" >>"$log" 2>&1 </dev/null & echo $!';
  const out = await new Deno.Command("bash", {
    args: ["-c", script, "spawn", opts.log, cmd, ...args],
    cwd: opts.cwd,
    env: opts.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const pid = Number(new TextDecoder().decode(out.stdout).trim());
  if (!out.success || !Number.isInteger(pid) || pid <= 0) {
    throw new Error(`could not start ${cmd}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return pid;
}

/** True while a process with this PID exists (and is not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Sends `signal` to the process group `pgid`, ignoring a group that is already gone. */
export function signalGroup(pgid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pgid, signal);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** PIDs of all processes whose environment holds `NAME=value` (finds children that left our group). */
export function pidsWithEnv(name: string, value: string): number[] {
  const needle = new TextEncoder().encode(`${name}=${value}\0`);
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    let environ: Uint8Array;
    try {
      environ = Deno.readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue;
    }
    if (indexOf(environ, needle) >= 0 && isAlive(pid)) pids.push(pid);
  }
  return pids;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    if (i > 0 && hay[i - 1] !== 0) continue;
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** The last `lines` lines of a log file, for error reports. */
export function tail(path: string, lines = 20): string {
  try {
    return Deno.readTextFileSync(path).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export async function portOpen(port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.close();
    return true;
  } catch {
    return false;
  }
}
