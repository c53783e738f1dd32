/**
 * The same catalog images built cold (`--no-cache`) on three engines (see bench/README.md, "Engines"):
 *  - BuildKit inside dockerd (docker buildx, the default builder);
 *  - the catalog's buildkitd through the buildctl driver (`kiln engine setup --buildkit`);
 *  - two buildkitd nodes, one platform each (`engine.nodes`, `kiln engine setup --nodes`);
 * plus the buildkit image's compressed size per platform. Each engine builds into a copy of the
 * site's store, so the site's own images stay as they are; digests are compared across engines.
 *
 *   npx tsx bench/engines.ts [--images debian,base:runtime,router] [--json FILE]
 *
 * Needs the buildkit image and the images' parents in the store (KILN_STORE); starts three
 * buildkitd containers (kiln-bench-*) on the host's network, ports 12351-12353, and removes them.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { BUILDKITD_STATE } from "../src/engine/buildkitd.ts";
import { OciStore } from "../src/oci/store.ts";
import { storeDir } from "../src/paths.ts";
import { loadSettings } from "../src/settings/load.ts";
import { must } from "./lib.ts";

const { values: args } = parseArgs({ options: { images: { type: "string", default: "debian,base:runtime,router" }, json: { type: "string" } } });
const refs = args.images.split(",");
const store = storeDir(await loadSettings({}));
const nodes: string[] = [];

async function startNode(name: string, port: number): Promise<Record<string, string>> {
  const r = await must(["engine", "setup", "--buildkit", "--name", name, "--port", String(port), "--host-network"], {});
  nodes.push(name);
  return Object.fromEntries([...r.stdout.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

async function storeCopy(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bench-engines-"));
  execFileSync("cp", ["-a", "--reflink=auto", store, path.join(dir, "store")]);
  return path.join(dir, "store");
}

const results: { engine: string; ref: string; seconds: number; digest: string }[] = [];
async function buildAll(engine: string, env: NodeJS.ProcessEnv): Promise<void> {
  const scratch = await storeCopy();
  for (const ref of refs) {
    const r = await must(["build", ref, "--no-cache", "--json", "--progress", "quiet"], { ...env, KILN_STORE: scratch });
    const digest = (JSON.parse(r.stdout) as { digest: string }).digest;
    results.push({ engine, ref, seconds: r.ms / 1000, digest });
    console.log(`${engine}: ${ref} ${(r.ms / 1000).toFixed(0)} s ${digest}`);
  }
  await fs.rm(path.dirname(scratch), { recursive: true, force: true });
}

try {
  await buildAll("docker engine", {});
  await buildAll("buildkitd (buildctl)", await startNode("kiln-bench-single", 12351));
  const amd = await startNode("kiln-bench-amd64", 12352);
  const arm = await startNode("kiln-bench-arm64", 12353);
  const tls = (n: Record<string, string>) => ({ ca: n.KILN_TLS_CA, cert: n.KILN_TLS_CERT, key: n.KILN_TLS_KEY });
  const config = path.join(os.tmpdir(), `kiln-bench-nodes-${process.pid}.json`);
  await fs.writeFile(config, JSON.stringify({ engine: { builder: "kiln-bench-nodes", nodes: [
    { name: "amd64", endpoint: amd.BUILDKIT_HOST, platforms: ["linux/amd64"], tls: tls(amd) },
    { name: "arm64", endpoint: arm.BUILDKIT_HOST, platforms: ["linux/arm64"], tls: tls(arm) },
  ] } }));
  await must(["engine", "setup", "--nodes"], { KILN_CONFIG: config });
  await buildAll("two nodes", { KILN_CONFIG: config });
} finally {
  for (const cmd of [["buildx", "rm", "kiln-bench-nodes"], ...nodes.flatMap((n) => [["rm", "--force", n], ["volume", "rm", "--force", `${n}-data`]])]) {
    try {
      execFileSync("docker", cmd, { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
  for (const n of nodes) await fs.rm(path.join(BUILDKITD_STATE, n), { recursive: true, force: true });
}

console.log("\n| image | docker engine | buildkitd (buildctl) | two nodes | same digest |\n|---|---|---|---|---|");
for (const ref of refs) {
  const row = results.filter((r) => r.ref === ref);
  const same = new Set(row.map((r) => r.digest)).size === 1;
  console.log(`| ${ref} | ${row.map((r) => `${r.seconds.toFixed(0)} s`).join(" | ")} | ${same ? "yes" : "NO"} |`);
}
const s = await OciStore.open(store);
const buildkit = await s.require("buildkit:image");
for (const [platform, d] of Object.entries(buildkit.manifests)) {
  const m = await s.readJson<{ layers: { size: number }[] }>(d.digest);
  console.log(`buildkit image ${platform}: ${(m.layers.reduce((n, l) => n + l.size, 0) / 1e6).toFixed(1)} MB compressed`);
}
if (args.json) await fs.writeFile(args.json, JSON.stringify(results, null, 2) + "\n");
