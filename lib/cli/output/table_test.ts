import assert from "node:assert/strict";
import { formatFields, formatTable } from "./table.ts";

Deno.test("cli table - columns are aligned to the widest cell", () => {
  const text = formatTable(["SITE", "VERSION"], [["central", "2026.3.0"], ["lumi", "-"]]);
  assert.equal(
    text,
    "SITE     VERSION\n" +
      "central  2026.3.0\n" +
      "lumi     -",
  );
});

Deno.test("cli table - accented names count as one column each, line breaks become spaces", () => {
  const text = formatTable(["NAME", "X"], [["Médoc", "a\nb"], ["ab", "c"]]);
  assert.deepEqual(text.split("\n"), ["NAME   X", "Médoc  a b", "ab     c"]);
});

Deno.test("cli table - no rows gives the header only", () => {
  assert.equal(formatTable(["A", "BB"], []), "A  BB");
});

Deno.test("cli table - fields of one record have their values aligned", () => {
  assert.equal(
    formatFields([["username", "alice"], ["issuer", "http://x"]]),
    "username  alice\nissuer    http://x",
  );
});
