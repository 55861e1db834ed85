/**
 * The replica's Python environments: one per pinned `requirements*.txt`, created with the
 * machine's `python3 -m venv` and cached under {@link cacheRoot}. `dedl` is DEDL's own stack
 * (distributed 2023.8.0, dask-gateway-server 2023.1.1): it runs the gateways and every cluster
 * started with the default image. `current` is the newest release (the replica's other image);
 * `2024.8` and `2025.3` complete the protocol version matrix (one per `update-graph` dialect).
 * Other dask-gateway-server releases have environments of their own ({@link gatewayServerEnv}).
 */
import { join } from "node:path";
import { cacheRoot, digest, exists } from "./cache.ts";

/**
 * Which pinned environment: DEDL's stack (`dedl`, distributed 2023.8.0), a late tuple-graph
 * release (`2024.8`), the last `graph_header` release with task-spec graphs (`2025.3`), or the
 * newest (`current`).
 */
export type PythonEra = "dedl" | "2024.8" | "2025.3" | "current";

/** Every environment, oldest first: the protocol suite runs against each. */
export const PYTHON_ERAS: readonly PythonEra[] = ["dedl", "2024.8", "2025.3", "current"];

const REQUIREMENTS: Record<PythonEra, string> = {
  dedl: "requirements-dedl.txt",
  "2024.8": "requirements-dask-2024.8.txt",
  "2025.3": "requirements-dask-2025.3.txt",
  current: "requirements.txt",
};

/** The version of `pkg` pinned for an era, read from its requirements file. */
export async function pinnedVersion(era: PythonEra, pkg: string): Promise<string> {
  const text = await Deno.readTextFile(new URL(REQUIREMENTS[era], import.meta.url));
  const m = new RegExp(`^${pkg}==(\\S+)$`, "mi").exec(text);
  if (!m) throw new Error(`${REQUIREMENTS[era]} pins no ${pkg} version`);
  return m[1];
}

/** The `distributed` version pinned for an era. */
export function pinnedDistributed(era: PythonEra): Promise<string> {
  return pinnedVersion(era, "distributed");
}

/**
 * Path of the `python` executable of an era's environment, installing it first if needed (a
 * failed install throws with pip's last output).
 */
export function pythonEnv(era: PythonEra = "dedl"): Promise<string> {
  return installedEnv(era, REQUIREMENTS[era]);
}

/**
 * dask-gateway-server releases other than the replica's own (DEDL's 2023.1.1, in `dedl`; the
 * newest, in `current`), each in an environment of its own: 2025.4.0 is the release some DEDL
 * sites may run instead.
 */
export type GatewayServerRelease = "2025.4.0";

const GATEWAY_SERVER_REQUIREMENTS: Record<GatewayServerRelease, string> = {
  "2025.4.0": "requirements-gateway-2025.4.txt",
};

/** Path of the `python` that runs dask-gateway-server `release`, installing it first if needed. */
export function gatewayServerEnv(release: GatewayServerRelease): Promise<string> {
  return installedEnv(`gateway-${release}`, GATEWAY_SERVER_REQUIREMENTS[release]);
}

/** The environment `name` of a pinned requirements file beside this module, cached by content. */
async function installedEnv(name: string, requirementsFile: string): Promise<string> {
  const reqUrl = new URL(requirementsFile, import.meta.url);
  const requirements = await Deno.readTextFile(reqUrl);
  const dir = join(cacheRoot(), `venv-${name}-${await digest(requirements)}`);
  const python = join(dir, "bin", "python");
  const marker = join(dir, ".installed");
  if (await exists(marker)) return python;
  await Deno.mkdir(cacheRoot(), { recursive: true });
  const lock = join(cacheRoot(), `venv-${name}.lock`);
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

/**
 * A folder holding only `requirement` (e.g. `"toolz==0.12.1"`, without its dependencies),
 * installed once for an era's Python and cached: put it first on a process's `PYTHONPATH` to
 * run that process with another release of one package than its environment has.
 */
export async function pythonOverlay(era: PythonEra, requirement: string): Promise<string> {
  const python = await pythonEnv(era);
  const dir = join(cacheRoot(), `overlay-${era}-${await digest(requirement)}`);
  const marker = join(dir, ".installed");
  if (await exists(marker)) return dir;
  await withFileLock(`${dir}.lock`, async () => {
    if (await exists(marker)) return;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await run(python, ["-m", "pip", "install", "-q", "--no-deps", "--target", dir, requirement]);
    await Deno.writeTextFile(marker, new Date().toISOString());
  });
  return dir;
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).slice(-4000);
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${err}`);
  }
}

/** Serialises installs across processes (tests and the replica may race to install). */
export async function withFileLock(path: string, fn: () => Promise<void>): Promise<void> {
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
