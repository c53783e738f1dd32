/**
 * The same catalog on kiln's own BuildKit: the catalog's buildkitd through the buildctl driver, and
 * a buildx builder of two such buildkitd nodes (remote driver, one platform each). `debian`,
 * `base:runtime` and `router` must give the same index digests on both, and the same as BuildKit
 * inside dockerd (docker 26's, an older BuildKit): the catalog keeps ARG and EXPOSE out of its
 * images' own stages, never dates a child before its parents, and kiln stores images without
 * BuildKit's version-dependent layer marks (docs/engines.md). On a difference the test prints the
 * `kiln diff` before it fails. Every buildkitd is started by `kiln engine setup --buildkit` from the
 * buildkit image kiln built (mutual TLS, buildctl from the image). Also: a client certificate
 * from another node's CA is refused, and a registry cache exported by one node is imported by a
 * fresh one (steps reported CACHED, digests unchanged).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILDKITD_STATE } from "../../src/engine/buildkitd.ts";
import { build, buildBase, familyEnv } from "../e2e/base-family.ts";
import { kiln } from "../e2e/helpers.ts";
import { mirrorConfig } from "../support/upstream-mirror.ts";

const family = familyEnv();
const env: NodeJS.ProcessEnv & { KILN_CONFIG: string } = { ...family, KILN_CONFIG: mirrorConfig(path.dirname(family.KILN_STORE!), { "buildkit.git": "https://github.com/moby/buildkit" }) };
const REFS = ["debian", "base:runtime", "router"] as const;
const PREFIX = "kiln-e2e-node";
const viaDocker: Record<string, string> = {};
const viaBuildctl: Record<string, string> = {};

/** One buildkitd from `kiln engine setup --buildkit`, and the settings it printed. */
interface Node {
  name: string;
  settings: Record<string, string>;
}
const nodes: Node[] = [];

async function startNode(suffix: string, port: number): Promise<Node> {
  const name = `${PREFIX}-${suffix}`;
  // The host's network: buildkitd reaches the local registry on 127.0.0.1 for the cache test.
  const r = await kiln(["engine", "setup", "--buildkit", "--name", name, "--port", String(port), "--host-network"], env);
  expect(r.code, r.stderr).toBe(0);
  const settings: Record<string, string> = {};
  for (const m of r.stdout.matchAll(/(\w+)=(\S+)/g)) settings[m[1]!] = m[2]!;
  expect(settings.BUILDKIT_HOST).toBe(`tcp://127.0.0.1:${port}`);
  const node = { name, settings };
  nodes.push(node);
  return node;
}

/** A store of its own holding the family's images: each engine's results land apart, the family's stay as they are. */
async function storeCopy(label: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `kiln-engines-${label}-`));
  execFileSync("cp", ["-a", "--reflink=auto", env.KILN_STORE!, path.join(dir, "store")]);
  return path.join(dir, "store");
}

async function buildDigest(ref: string, extraEnv: NodeJS.ProcessEnv, flags: string[] = []): Promise<{ digest: string; stderr: string }> {
  const r = await kiln(["build", ref, "--json", "--progress", flags.includes("plain") ? "plain" : "quiet", ...flags.filter((f) => f !== "plain")], { ...env, ...extraEnv });
  expect(r.code, r.stderr.slice(-3000)).toBe(0);
  return { digest: (JSON.parse(r.stdout) as { digest: string }).digest, stderr: r.stderr };
}

beforeAll(async () => {
  await buildBase(env);
  await build(env, "buildkit", ["--platform", "linux/amd64"]);
  for (const ref of REFS) viaDocker[ref] = (await build(env, ref)).digest;
}, 3_600_000);

/** Cleanup that must not stop at the first thing already gone. */
const tryRun = (cmd: string, args: string[]) => {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
  } catch {
    // already gone
  }
};

afterAll(async () => {
  tryRun("docker", ["buildx", "rm", `${PREFIX}s`]);
  for (const n of nodes) {
    tryRun("docker", ["rm", "--force", n.name]);
    tryRun("docker", ["volume", "rm", "--force", `${n.name}-data`]);
    await fs.rm(path.join(BUILDKITD_STATE, n.name), { recursive: true, force: true });
  }
}, 900_000); // each node's /data holds its whole build state: removing the volumes takes minutes

describe("the same digests on every engine", () => {
  it("buildctl driver on kiln's buildkitd: debian, base:runtime and router, the same digests as docker buildx on the Docker engine", async () => {
    const node = await startNode("a", 12341);
    const store = await storeCopy("buildctl");
    const status = await kiln(["engine", "status"], { ...env, ...node.settings });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain("engine:     usable (buildctl)");
    expect(status.stdout).toContain("buildkitd at tcp://127.0.0.1:12341, BuildKit v0.26.3");
    expect(status.stdout).toContain("multi-arch: yes");
    expect(status.stdout).toMatch(new RegExp(`buildkitd:  ${node.name} running`));
    for (const ref of REFS) {
      const started = Date.now();
      const { digest } = await buildDigest(ref, { ...node.settings, KILN_STORE: store });
      console.log(`buildctl: ${ref} ${((Date.now() - started) / 1000).toFixed(0)} s, ${digest === viaDocker[ref] ? "the same digest as" : "a different digest from"} the Docker engine`);
      viaBuildctl[ref] = digest;
      if (digest !== viaDocker[ref]) {
        const diff = await kiln(["diff", `oci:${env.KILN_STORE}@${viaDocker[ref]}`, `oci:${store}@${digest}`], env);
        console.log(diff.stdout.split("\n").slice(0, 20).join("\n"));
      }
    }
    expect(viaBuildctl).toEqual(viaDocker);
  });

  it("a client certificate from another buildkitd's CA is refused", async () => {
    const [a] = nodes;
    const b = await startNode("b", 12342);
    const mixed = { ...a!.settings, KILN_TLS_CERT: b.settings.KILN_TLS_CERT!, KILN_TLS_KEY: b.settings.KILN_TLS_KEY! };
    const r = await kiln(["engine", "status"], { ...env, ...mixed });
    // Under TLS 1.3 the client sees a closed connection, not the server's certificate complaint.
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(a!.settings.BUILDKIT_HOST!);
    expect(r.stderr.split("\n").filter(Boolean).length).toBeLessThanOrEqual(2);
  });

  it("two nodes, one platform each: every platform built on its own node, the same digests as the single buildkitd", async () => {
    const amd = await startNode("amd64", 12343);
    const arm = await startNode("arm64", 12344);
    const tls = (n: Node) => ({ ca: n.settings.KILN_TLS_CA, cert: n.settings.KILN_TLS_CERT, key: n.settings.KILN_TLS_KEY });
    const config = path.join(path.dirname(env.KILN_STORE!), "nodes.json");
    const site = JSON.parse(await fs.readFile(env.KILN_CONFIG, "utf8")) as Record<string, unknown>;
    await fs.writeFile(
      config,
      JSON.stringify({
        ...site,
        engine: {
          builder: `${PREFIX}s`,
          nodes: [
            { name: "amd64", endpoint: amd.settings.BUILDKIT_HOST, platforms: ["linux/amd64"], tls: tls(amd) },
            { name: "arm64", endpoint: arm.settings.BUILDKIT_HOST, platforms: ["linux/arm64"], tls: tls(arm) },
          ],
        },
      }),
    );
    const setup = await kiln(["engine", "setup", "--nodes"], { ...env, KILN_CONFIG: config });
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.stderr).toContain(`node amd64 at ${amd.settings.BUILDKIT_HOST}: running, builds linux/amd64`);
    expect(setup.stderr).toContain(`node arm64 at ${arm.settings.BUILDKIT_HOST}: running, builds linux/arm64`);
    const store = await storeCopy("nodes");
    for (const ref of REFS) {
      const started = Date.now();
      const { digest } = await buildDigest(ref, { KILN_CONFIG: config, KILN_STORE: store });
      console.log(`two nodes: ${ref} ${((Date.now() - started) / 1000).toFixed(0)} s`);
      expect(digest, ref).toBe(viaBuildctl[ref]);
    }
    // Each node ran its own platform's steps: both hold build records now (they started empty).
    for (const n of [amd, arm]) {
      const du = execFileSync("docker", ["exec", n.name, "buildctl", "--addr", "unix:///tmp/buildkitd.sock", "du"], { encoding: "utf8" });
      expect(du, n.name).toMatch(/Total:\s+[1-9]/);
    }
  });

  it("a registry cache exported by one node is reused by a fresh one, digests unchanged", async () => {
    const [a] = nodes;
    const cache = "type=registry,ref=127.0.0.1:5000/kiln-e2e/cache-router,mode=max,registry.insecure=true";
    const exported = await buildDigest("router", { ...a!.settings, KILN_STORE: await storeCopy("cache-out") }, ["--no-cache", "--cache-to", cache]);
    expect(exported.digest).toBe(viaBuildctl.router);
    const fresh = await startNode("fresh", 12345);
    const imported = await buildDigest("router", { ...fresh.settings, KILN_STORE: await storeCopy("cache-in") }, ["plain", "--cache-from", cache]);
    expect(imported.digest).toBe(viaBuildctl.router);
    const cached = imported.stderr.split("\n").filter((l) => / CACHED$/.test(l)).length;
    console.log(`fresh node: ${cached} steps CACHED from the registry`);
    expect(cached).toBeGreaterThan(0);
  });
});
