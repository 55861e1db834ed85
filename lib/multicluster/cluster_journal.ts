/**
 * A small local record of the clusters this machine's processes started, so that clusters whose
 * process died without stopping them (SIGKILL, a crash, a power cut) are found later and can be
 * stopped. One file per cluster in a private folder (mode 0700, files 0600), written when the
 * gateway names the cluster and removed when it is stopped. A file holds no secret: the owner
 * process, the site, the gateway, the cluster name, the account and the time.
 * @module
 */

/** One cluster a process started. */
export interface JournalEntry {
  /** The process that started it. */
  readonly pid: number;
  /** That process's start time (clock ticks after boot, from /proc), against reused pids. */
  readonly pidStart: number | null;
  /** The site id in the registry. */
  readonly site: string;
  /** The site's gateway API address. */
  readonly gateway: string;
  /** The cluster's name. */
  readonly name: string;
  /** The account that started it (the token source's identity). */
  readonly account: string;
  /** When it was created, ISO 8601. */
  readonly startedAt: string;
}

/**
 * The default folder: `$DEDL_DASK_JOURNAL`, else `$XDG_CACHE_HOME/dedl-dask/clusters`, else
 * `~/.cache/dedl-dask/clusters`; none without a home.
 */
export function defaultJournalDir(): string | undefined {
  const explicit = Deno.env.get("DEDL_DASK_JOURNAL");
  if (explicit) return explicit;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  const base = Deno.env.get("XDG_CACHE_HOME") ?? (home ? join(home, ".cache") : undefined);
  return base ? join(base, "dedl-dask", "clusters") : undefined;
}

/** Joined by hand: `node:path` would load Node compatibility at every program's start-up. */
function join(...parts: string[]): string {
  return parts.join(Deno.build.os === "windows" ? "\\" : "/");
}

/** The journal in one folder. Every method is best effort: failures throw for the caller. */
export class ClusterJournal {
  /** A journal kept in `dir` (created on first record). */
  constructor(readonly dir: string) {}

  /** Records a cluster this process has just created. */
  async record(entry: Omit<JournalEntry, "pid" | "pidStart" | "startedAt">): Promise<void> {
    const full: JournalEntry = {
      pid: Deno.pid,
      pidStart: processStart(Deno.pid),
      ...entry,
      startedAt: new Date().toISOString(),
    };
    await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const path = this.#path(full);
    await Deno.writeTextFile(path, JSON.stringify(full) + "\n", { mode: 0o600 });
  }

  /** Forgets a cluster (it was stopped). Forgetting an unknown one is fine. */
  async forget(entry: Pick<JournalEntry, "pid" | "gateway" | "name">): Promise<void> {
    await Deno.remove(this.#path(entry)).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }

  /** Every recorded cluster (unreadable files are skipped). */
  async entries(): Promise<JournalEntry[]> {
    const entries: JournalEntry[] = [];
    try {
      for await (const file of Deno.readDir(this.dir)) {
        if (!file.isFile || !file.name.endsWith(".json")) continue;
        try {
          const entry = JSON.parse(await Deno.readTextFile(join(this.dir, file.name)));
          if (isEntry(entry)) entries.push(entry);
        } catch {
          // A half-written or foreign file: not ours to judge.
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return entries;
  }

  /** Whether a running process (this one included) recorded the cluster `name` at `gateway`. */
  async tracked(gateway: string, name: string): Promise<boolean> {
    return (await this.entries()).some((e) =>
      e.gateway === gateway && e.name === name && ownerAlive(e)
    );
  }

  /** Recorded clusters whose process is gone: nobody will stop them. */
  async orphans(): Promise<JournalEntry[]> {
    return (await this.entries()).filter((e) => !ownerAlive(e));
  }

  #path(entry: Pick<JournalEntry, "pid" | "gateway" | "name">): string {
    const gateway = entry.gateway.replace(/[^A-Za-z0-9.-]+/g, "_");
    return join(this.dir, `${entry.pid}-${gateway}-${entry.name.replace(/[^\w-]+/g, "_")}.json`);
  }
}

/** Whether the process that recorded `entry` still runs (the same process, not a reused pid). */
function ownerAlive(entry: JournalEntry): boolean {
  if (entry.pid === Deno.pid) return true;
  const start = processStart(entry.pid);
  if (start === null) return procAvailable() ? false : pidExists(entry.pid);
  return entry.pidStart === null || entry.pidStart === start;
}

/** A process's start time from /proc/<pid>/stat (field 22), or null when it is not running. */
function processStart(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return null; // a zombie has finished
    return Number(fields[19]);
  } catch {
    return null;
  }
}

function procAvailable(): boolean {
  try {
    Deno.statSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
}

/** Without /proc (macOS): `ps -p` tells whether a pid runs. */
function pidExists(pid: number): boolean {
  try {
    return new Deno.Command("ps", { args: ["-p", String(pid)], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return true; // cannot tell: not an orphan
  }
}

function isEntry(v: unknown): v is JournalEntry {
  const e = v as JournalEntry;
  return typeof e === "object" && e !== null && Number.isSafeInteger(e.pid) &&
    typeof e.site === "string" && typeof e.gateway === "string" &&
    typeof e.name === "string" && typeof e.account === "string" &&
    typeof e.startedAt === "string";
}
