import assert from "node:assert/strict";
import { sitesBundle } from "./sites_display.ts";

Deno.test("sites display - down sites, clusters, workers and links", () => {
  const bundle = sitesBundle([
    {
      site: "central",
      name: "Central <DEDL>",
      address: "https://c",
      available: true,
      version: "2023.1.1",
      cluster: "abc",
      dashboardLink: "https://c/clusters/abc/status",
    },
    { site: "lumi", name: "LUMI", address: "https://l", available: false, error: "timed out" },
  ], new Map([["central", { workers: 2, threads: 4, memoryBytes: 8 * 2 ** 30 }]]));
  const [header, central, lumi] = bundle["text/plain"].split("\n");
  assert.match(header, /^site +name +status +cluster +workers +dashboard$/);
  assert.match(
    central,
    /^central +Central <DEDL> +up \(dask-gateway 2023\.1\.1\) +abc +2 \(4 threads, 8\.0 GiB\) +https:\/\/c\/clusters\/abc\/status$/,
  );
  assert.match(lumi, /^lumi +LUMI +down: timed out +- +- +-$/);
  assert.match(bundle["text/html"], /Central &#60;DEDL&#62;/);
  assert.match(
    bundle["text/html"],
    /<a href="https:\/\/c\/clusters\/abc\/status"[^>]*>dashboard<\/a>/,
  );
  assert.match(bundle["text/html"], /<span style="color:#c62828">down: timed out<\/span>/);
});
