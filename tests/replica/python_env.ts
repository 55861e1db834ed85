/**
 * The replica's Python environments: one per pinned `requirements*.txt`, created with the
 * machine's `python3 -m venv` and cached under {@link cacheRoot}. The newest pinned `distributed`
 * runs the gateways; the older one exercises the other `update-graph` era.
 */
import { join } from "node:path";
import { cacheRoot, digest, exists } from "./cache.ts";

/** Which pinned environment: the newest `dask`/`distributed`, or 2025.3.0 (graph_header era). */
export type PythonEra = "current" | "2025.3";

const REQUIREMENTS: Record<PythonEra, string> = {
  current: "requirements.txt",
  "2025.3": "requirements-dask-2025.3.txt",
};

/** The `distributed` version pinned for an era, read from its requirements file. */
export async function pinnedDistributed(era: PythonEra): Promise<string> {
  const text = await Deno.readTextFile(new URL(REQUIREMENTS[era], import.meta.url));
  const m = /^distributed==(\S+)$/m.exec(text);
  if (!m) throw new Error(`${REQUIREMENTS[era]} pins no distributed version`);
  return m[1];
}

/**
 * Path of the `python` executable of an era's environment, installing it first if needed.
 * Installation output goes to `log` (a file path) so callers can show it on failure.
 */
export async function pythonEnv(era: PythonEra = "current"): Promise<string> {
  const reqUrl = new URL(REQUIREMENTS[era], import.meta.url);
  const requirements = await Deno.readTextFile(reqUrl);
  const dir = join(cacheRoot(), `venv-${era}-${await digest(requirements)}`);
  const python = join(dir, "bin", "python");
  const marker = join(dir, ".installed");
  if (await exists(marker)) return python;
  await Deno.mkdir(cacheRoot(), { recursive: true });
  const lock = join(cacheRoot(), `venv-${era}.lock`);
  await withFileLock(lock, async () => {
    if (await exists(marker)) return;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await run("python3", ["-m", "venv", dir]);
    await run(python, ["-m", "pip", "install", "-q", "--upgrade", "pip"]);
    await run(python, ["-m", "pip", "install", "-q", "-r", reqUrl.pathname]);
    await Deno.writeTextFile(marker, new Date().toISOString());
  });
  return python;
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).slice(-4000);
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${err}`);
  }
}

/** Serialises installs across processes (tests and the replica may race to install). */
async function withFileLock(path: string, fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      const f = await Deno.open(path, { createNew: true, write: true });
      f.close();
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      const age = Date.now() - ((await Deno.stat(path).catch(() => null))?.mtime?.getTime() ?? 0);
      if (age > 30 * 60_000) await Deno.remove(path).catch(() => {});
      if (Date.now() > deadline) throw new Error(`timed out waiting for install lock ${path}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    await fn();
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}
