/**
 * The error contract: every concrete error class of a layer has a stable `code` and a `kind`,
 * no two classes share a code, `docs/errors.md` lists each code with its class and kind, and the
 * root `errors` namespace exports every class, each a `DedlDaskError`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as errors from "../errors.ts";
import { REPO_ROOT } from "./replica/endpoints.ts";

/** The layers' errors modules whose codes are checked. */
const ERROR_MODULES = [
  "protocol/errors.ts",
  "lib/auth/errors.ts",
  "lib/gateway/errors.ts",
  "lib/multicluster/errors.ts",
  "lib/dataset/errors.ts",
  "lib/cli/errors.ts",
];

interface Declared {
  readonly module: string;
  readonly name: string;
  readonly parent: string;
  readonly abstract: boolean;
  readonly code?: string;
  /** The literal kind (inherited from a parent of the same module), or `derived` for a getter. */
  readonly kind?: string;
}

/** Error classes as the source declares them (codes and kinds are literals by convention). */
async function declaredClasses(module: string): Promise<Declared[]> {
  const source = await Deno.readTextFile(join(REPO_ROOT, module));
  const starts = [...source.matchAll(/^export (abstract )?class (\w+) extends (\w+) \{/gm)];
  const classes = starts.map((m, i) => {
    const body = source.slice(m.index, starts[i + 1]?.index ?? source.length);
    const literal = (field: string) =>
      new RegExp(`\\n {2}(?:override )?readonly ${field}(?:: \\w+)? = "(\\w+)";`).exec(body)?.[1];
    return {
      module,
      name: m[2],
      parent: m[3],
      abstract: m[1] !== undefined,
      code: literal("code"),
      kind: literal("kind") ??
        (/\n {2}get kind\(\): ErrorKind \{/.test(body) ? "derived" : undefined),
    };
  });
  const byName = new Map(classes.map((c) => [c.name, c]));
  const kindOf = (c: Declared | undefined): string | undefined =>
    c && (c.kind ?? kindOf(byName.get(c.parent)));
  return classes.map((c) => ({ ...c, kind: kindOf(c) }));
}

Deno.test("errors - every class has a unique stable code and a kind, listed in docs/errors.md", async () => {
  const doc = await Deno.readTextFile(join(REPO_ROOT, "docs/errors.md"));
  const seen = new Map<string, string>();
  for (const module of ERROR_MODULES) {
    const classes = await declaredClasses(module);
    assert.ok(classes.some((c) => c.abstract), `${module} has its abstract layer root`);
    for (const c of classes.filter((c) => !c.abstract)) {
      assert.ok(c.code?.startsWith("ERR_"), `${c.name} (${module}) has a code`);
      assert.ok(c.kind, `${c.name} (${module}) has a kind`);
      assert.equal(seen.get(c.code!), undefined, `${c.code} is used by ${seen.get(c.code!)} too`);
      seen.set(c.code!, c.name);
      const kind = c.kind === "derived" ? "the cause's" : `\`?${c.kind}\`?`;
      const row = new RegExp(`^\\| \`${c.code}\` +\\| \`${c.name}\` +\\| ${kind} +\\|`, "m");
      assert.match(doc, row, `docs/errors.md lists ${c.code} for ${c.name} (${c.kind})`);
    }
  }
  assert.ok(seen.size >= 40);
});

Deno.test("errors - the root namespace exports every class, each a DedlDaskError", async () => {
  const exported = errors as unknown as Record<string, unknown>;
  for (const module of ERROR_MODULES) {
    for (const c of await declaredClasses(module)) {
      const value = exported[c.name];
      assert.equal(typeof value, "function", `errors.${c.name} is exported`);
      assert.ok(
        (value as { prototype: unknown }).prototype instanceof errors.DedlDaskError,
        `${c.name} extends DedlDaskError`,
      );
    }
  }
});
