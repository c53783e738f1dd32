/**
 * One candidate cause of a stalled daemon, in isolation: what `kiln test`
 * does to the engine's image store, N times in a row. Loads a stored
 * multi-platform image into dockerd's containerd (every platform, as kiln
 * test does), creates and removes a container per platform (which unpacks
 * that platform's layers, as `docker run` does), removes the tag, and prints how long
 * each step took (TSV). Run monitor.sh beside it to see the daemon's latency.
 *
 *   npx tsx bench/engine-stall/load-remove.ts STORE REF [N]
 */
import { spawnSync } from "node:child_process";
import { loadImage } from "../../src/oci/publish.ts";
import { OciStore } from "../../src/oci/store.ts";

const [storeDir, ref, n = "5"] = process.argv.slice(2);
if (!storeDir || !ref) throw new Error("usage: load-remove.ts STORE REF [N]");
const store = await OciStore.open(storeDir);
const image = await store.require(ref);
const platforms = Object.keys(image.manifests);
const ms = (t: number) => Math.round(performance.now() - t);
console.log(["round", "load_ms", ...platforms.map((p) => `create_rm_${p}_ms`), "rmi_ms"].join("\t"));
for (let i = 1; i <= Number(n); i++) {
  const tag = `docker.io/kiln-bench/load-remove:${process.pid}-${i}`;
  let t = performance.now();
  await loadImage(store, image.digest, [tag]);
  const load = ms(t);
  const runs = platforms.map((p) => {
    t = performance.now();
    const id = spawnSync("docker", ["create", "--platform", p, "--network", "none", tag], { encoding: "utf8" }).stdout.trim();
    if (id) spawnSync("docker", ["rm", "--force", id], { stdio: "ignore" });
    return ms(t);
  });
  t = performance.now();
  spawnSync("docker", ["rmi", "--force", tag], { stdio: "ignore" });
  console.log([i, load, ...runs, ms(t)].join("\t"));
}
