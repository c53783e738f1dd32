/**
 * images/router on the real engine: reproducible for both platforms; run
 * read-only, without capabilities, as uid 2000 with a tmpfs /tmp, it turns
 * healthy, proxies to an upstream (a second router answering with a fixed text)
 * and serves Prometheus metrics, on amd64 and on arm64 (qemu); under internal
 * TLS a * route gets certificates only for the names listed or approved by an ask
 * endpoint (client proofs from the tools image). The image holds no compiler,
 * package manager, apt lists or caches.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, buildBase, clientProofs, familyEnv, FORBIDDEN_IN_RUNTIME, hostPort, readImage, waitHealthy, type Built } from "./base-family.ts";
import { kiln, mustRun, registryDigest, runCommand } from "./helpers.ts";

const env = familyEnv();
const REGISTRY = "127.0.0.1:5000";
const tag = `e2e-${process.pid}`;
const image = `${REGISTRY}/kiln-e2e/kiln/router:${tag}`;
const network = `kiln-e2e-router-${process.pid}`;
const containers: string[] = [];
let router: Built;

const HARDENED = ["--read-only", "--cap-drop=ALL", "--security-opt", "no-new-privileges", "--user", "2000", "--tmpfs", "/tmp"];

beforeAll(async () => {
  await buildBase(env);
  // The client of the TLS proofs (openssl, curl).
  await build(env, "tools");
  await mustRun("docker", ["network", "create", network]);
});

afterAll(async () => {
  for (const c of containers) await runCommand("docker", ["rm", "-f", c]);
  await runCommand("docker", ["network", "rm", network]);
  await runCommand("docker", ["rmi", "-f", image]);
});

async function start(name: string, platform: string, env: Record<string, string>, publish: number[] = []): Promise<void> {
  containers.push(name);
  const args = ["run", "-d", "--name", name, "--network", network, "--network-alias", name, "--platform", platform, ...HARDENED];
  for (const [k, v] of Object.entries(env)) args.push("-e", `${k}=${v}`);
  for (const p of publish) args.push("-p", `127.0.0.1::${p}`);
  await mustRun("docker", [...args, image]);
}

describe("router", () => {
  it("builds bit for bit the same twice with --no-cache, for both platforms", async () => {
    router = await build(env, "router", ["--no-cache"]);
    const again = await build(env, "router", ["--no-cache"]);
    expect(Object.keys(router.manifests).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    expect(again.digest).toBe(router.digest);
    expect(again.manifests).toEqual(router.manifests);
  });

  it.each(["linux/amd64", "linux/arm64"])("%s: no compiler, package manager, apt lists or caches; no RUN; declared runtime", async (platform) => {
    const img = await readImage(env, router.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    for (const need of ["usr/bin/caddy", "boot/healthcheck", "boot/entrypoint.sh", "etc/mime.types", "usr/share/kiln/packages/router.tsv", "usr/share/kiln/packages/base-runtime.tsv", "usr/share/doc/caddy/copyright"]) expect(img.files.has(need), need).toBe(true);
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    expect(img.config.config.User).toBe("2000:2000");
    expect(img.config.config.Healthcheck?.Test).toEqual(["CMD", "/boot/healthcheck", "9180", "/health"]);
    console.log(`${platform}: router ${(img.compressed / 1e6).toFixed(2)} MB compressed`);
    expect(img.compressed).toBeLessThan(25e6);
  });

  it("passes kiln test on both platforms: policy, health, probes, metrics, command tests, certificates only for names asked for", async () => {
    const r = await kiln(["test", "router"], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const platform of ["linux/amd64", "linux/arm64"]) {
      expect(clientProofs(r.stdout, `router:image ${platform}`), platform).toEqual([
        ...["setup", "a listed name gets a certificate", "the * route answers it", "a name nobody listed gets no certificate"].map((s) => `✓ client-test TLS for listed names / ${s}`),
        ...["setup", "an approved name gets a certificate", "the * route answers it", "a name the endpoint refuses gets no certificate"].map((s) => `✓ client-test TLS on demand with an ask endpoint / ${s}`),
      ]);
    }
  });

  it("pushes the stored digest", async () => {
    const r = await build(env, "router", ["--push", "--registry", `${REGISTRY}/kiln-e2e`, "--tag", tag]);
    expect(r.digest).toBe(router.digest);
    expect(await registryDigest(REGISTRY, "kiln-e2e/kiln/router", tag)).toBe(router.digest);
  });

  it.each([
    ["linux/amd64", "x86_64"],
    ["linux/arm64", "aarch64"],
  ])("%s: hardened run turns healthy, proxies to an upstream and serves metrics", async (platform, machine) => {
    const arch = platform.split("/")[1]!;
    const upstream = `kiln-e2e-up-${arch}-${process.pid}`;
    const front = `kiln-e2e-router-${arch}-${process.pid}`;
    await start(upstream, platform, { ROUTER_ROUTES: `*=respond:hello from ${arch} upstream` });
    await start(front, platform, { ROUTER_ROUTES: `*=http://${upstream}:8080`, ROUTER_LOG_FORMAT: "json" }, [8080, 9180]);
    await waitHealthy(upstream, 240_000);
    await waitHealthy(front, 240_000);
    expect((await mustRun("docker", ["exec", front, "bash", "-c", "echo $HOSTTYPE $UID"])).trim()).toBe(`${machine} 2000`);

    const web = await hostPort(front, 8080);
    const res = await fetch(`http://127.0.0.1:${web}/some/path`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`hello from ${arch} upstream`);

    const metrics = await (await fetch(`http://127.0.0.1:${await hostPort(front, 9180)}/metrics`)).text();
    expect(metrics).toContain("# TYPE go_goroutines gauge");
    expect(metrics).toContain(`caddy_reverse_proxy_upstreams_healthy{upstream="${upstream}:8080"} 1`);

    // Access logs go to stdout as JSON.
    const logs = await runCommand("docker", ["logs", front]);
    const access = logs.stdout.split("\n").filter((l) => l.includes('"handled request"')).map((l) => JSON.parse(l) as { request: { uri: string }; status: number });
    expect(access.some((a) => a.request.uri === "/some/path" && a.status === 200)).toBe(true);
  });

  it("refuses a bad configuration with one line and exit 64", async () => {
    const r = await runCommand("docker", ["run", "--rm", ...HARDENED, "-e", "ROUTER_ROUTES=app.home.arpa=ftp://x", image]);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe("router: route 'app.home.arpa=ftp://x': 'ftp://x' is not an upstream like http://10.0.0.5:8080\n");
  });
});
