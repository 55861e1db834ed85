import assert from "node:assert/strict";
import { InvalidStoreUrl } from "./errors.ts";
import { resolveStoreAddress } from "./store_address.ts";

Deno.test("store address - https, http, s3 with an endpoint, file:// and paths", () => {
  assert.deepEqual(resolveStoreAddress("https://s3.central.example/bucket/flood.zarr/"), {
    kind: "http",
    url: "https://s3.central.example/bucket/flood.zarr",
  });
  assert.deepEqual(resolveStoreAddress(new URL("http://127.0.0.1:9000/b/x.zarr")), {
    kind: "http",
    url: "http://127.0.0.1:9000/b/x.zarr",
  });
  assert.deepEqual(resolveStoreAddress("s3://bucket/dir/x.zarr/", "https://s3.lumi.example/"), {
    kind: "http",
    url: "https://s3.lumi.example/bucket/dir/x.zarr",
  });
  assert.deepEqual(resolveStoreAddress("file:///data/my%20store.zarr"), {
    kind: "local",
    url: "/data/my store.zarr",
  });
  assert.deepEqual(resolveStoreAddress("/data/./a/../x.zarr"), {
    kind: "local",
    url: "/data/x.zarr",
  });
  assert.deepEqual(resolveStoreAddress("x.zarr"), { kind: "local", url: `${Deno.cwd()}/x.zarr` });
});

Deno.test("store address - what cannot be used is refused with what to write instead", () => {
  const refused = (url: string, endpoint: string | undefined, message: RegExp) =>
    assert.throws(() => resolveStoreAddress(url, endpoint), (e: Error) => {
      assert.ok(e instanceof InvalidStoreUrl);
      assert.equal(e.url, url);
      assert.match(e.message, message);
      return true;
    });
  refused("s3://bucket/x.zarr", undefined, /needs the object store's endpoint: pass \{ endpoint/);
  refused("s3://", "https://e", /write s3:\/\/<bucket>\/<path of the store>/);
  refused("s3://b/x", "ftp://e", /endpoint ftp:\/\/e is not an http/);
  refused("gs://b/x.zarr", undefined, /gs:\/\/ is not supported; use https:\/\//);
  refused("https://h/x.zarr?sig=1", undefined, /no query string/);
  refused("https://user:pw@h/x.zarr", undefined, /credentials in the URL are not supported/);
  refused("http://[bad/x", undefined, /not a valid URL/);
  refused("  ", undefined, /empty/);
});
