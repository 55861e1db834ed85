import assert from "node:assert/strict";
import {
  escapeHtml,
  htmlLink,
  htmlTable,
  inJupyterKernel,
  JUPYTER_DISPLAY,
  showInNotebook,
  textTable,
} from "./jupyter.ts";

Deno.test("jupyter - the display symbol is the one Deno's kernel looks for", () => {
  assert.equal(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
});

Deno.test("jupyter - HTML pieces escape text; only http(s) addresses become links", () => {
  assert.equal(
    escapeHtml(`<a href="x">'&'</a>`),
    "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;",
  );
  assert.equal(
    htmlLink("https://h/clusters/x/status", "dashboard"),
    `<a href="https://h/clusters/x/status" target="_blank" rel="noopener">dashboard</a>`,
  );
  assert.equal(htmlLink("javascript:alert(1)", "x"), "x");
  assert.equal(htmlLink(null), "-");
  const table = htmlTable(["a", "<b>"], [["1", "<i>2</i>"]], "cap");
  assert.match(table, /<caption[^>]*>cap<\/caption>/);
  assert.match(table, /<th[^>]*>&#60;b&#62;<\/th>/);
  assert.match(table, /<td[^>]*><i>2<\/i><\/td>/, "cells are HTML already");
  assert.equal(
    textTable(["site", "n"], [["central", "1"], ["lumi", "22"]]),
    "site     n\ncentral  1\nlumi     22",
  );
});

Deno.test("jupyter - outside a kernel nothing is shown and nothing throws", async () => {
  assert.equal(inJupyterKernel(), false);
  await showInNotebook({ "text/plain": "x" }, "id", false);
});
