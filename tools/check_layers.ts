/**
 * `deno task check` step: every import between layers goes through the imported layer's entry
 * (`mod.ts`, or `internal.ts` for what other layers of this project may use but users should
 * not), and only downwards: base ← protocol ← auth ← gateway ← multicluster ← dataset ← cli.
 * Tests (`*_test.ts`) and test helpers (`testing/`) may reach anywhere. Prints each violation
 * and exits 1 if there is any.
 *
 *   deno run --allow-read tools/check_layers.ts
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";

/** Layers by folder, each with the layers it may import from. */
const LAYERS: Record<string, readonly string[]> = {
  "base": [],
  "protocol": ["base"],
  "lib/auth": ["base"],
  "lib/gateway": ["base", "protocol", "lib/auth"],
  "lib/multicluster": ["base", "protocol", "lib/auth", "lib/gateway"],
  // Dataset expressions are computations the multi-site layer routes (its SiteComputation).
  "lib/dataset": ["base", "protocol", "lib/multicluster"],
  "lib/cli": ["base", "protocol", "lib/auth", "lib/gateway", "lib/multicluster", "lib/dataset"],
};
/** Files a layer exposes to the others. */
const ENTRIES = ["mod.ts", "internal.ts"];
/** Folders whose files are checked. */
const ROOTS = Object.keys(LAYERS);

const repo = resolve(dirname(new URL(import.meta.url).pathname), "..");

function layerOf(path: string): string | undefined {
  const rel = relative(repo, path);
  return ROOTS.filter((l) => rel === l || rel.startsWith(`${l}/`)).sort((a, b) =>
    b.length - a.length
  )[0];
}

function exempt(path: string): boolean {
  return path.endsWith("_test.ts") || path.split("/").includes("testing");
}

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sources(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

const IMPORT = /(?:from\s+|import\s*\(\s*)"(\.{1,2}\/[^"]+)"/g;

const problems: string[] = [];
for (const root of ROOTS) {
  const dir = join(repo, root);
  if (!(await Deno.stat(dir).catch(() => null))) continue;
  for await (const file of sources(dir)) {
    const layer = layerOf(file);
    if (!layer || exempt(file) || layerOf(file) !== root) continue;
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(IMPORT)) {
      const target = resolve(dirname(file), m[1]);
      const targetLayer = layerOf(target);
      if (!targetLayer || targetLayer === layer) continue;
      const where = `${relative(repo, file)} imports ${relative(repo, target)}`;
      if (!LAYERS[layer].includes(targetLayer)) {
        problems.push(`${where}: ${layer} may not depend on ${targetLayer}`);
      } else if (!ENTRIES.some((e) => target === join(repo, targetLayer, e))) {
        problems.push(`${where}: import ${targetLayer}/mod.ts (or internal.ts) instead`);
      }
    }
  }
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  console.error(`${problems.length} import(s) cross a layer boundary outside its entry`);
  Deno.exit(1);
}
console.log("layers: every cross-layer import goes through an entry module");
