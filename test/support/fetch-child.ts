/** A separate process fetching one URL into a content cache: `fetch-child.ts CACHE URL SHA256`. */
import { fetchToCache } from "../../src/lock/download.ts";
import { ContentStore } from "../../src/util/cas.ts";

const [cache, url, expected] = process.argv.slice(2);
const got = await fetchToCache({ store: new ContentStore(cache!), url: url!, algorithm: "sha256", expected: expected || undefined, what: "download test", offline: false, fix: "" });
process.stdout.write(`${got.hex}\n`);
