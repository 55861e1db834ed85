/**
 * Where the replica keeps downloads and installs: outside the repository, keyed by the pinned
 * versions, so a fresh clone reuses them and a version bump installs side by side.
 */
import { join } from "node:path";

/** The cache root: `$DEDL_DASK_CACHE`, else `$XDG_CACHE_HOME/dedl-dask`, else `~/.cache/dedl-dask`. */
export function cacheRoot(): string {
  const explicit = Deno.env.get("DEDL_DASK_CACHE");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "dedl-dask");
  const home = Deno.env.get("HOME");
  if (!home) throw new Error("HOME is not set: set DEDL_DASK_CACHE to a writable folder");
  return join(home, ".cache", "dedl-dask");
}

/** Short hex digest of a text, used to key cached installs by their pinned inputs. */
export async function digest(text: string): Promise<string> {
  const bytes = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(bytes).slice(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
