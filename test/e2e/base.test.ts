/**
 * images/base on the real engine: the runtime is reproducible for both
 * platforms, holds only what apps need (no package manager, compiler, caches),
 * follows the layout conventions, runs glibc and bash on amd64 and arm64 (qemu),
 * and is at most half the debian image; the builder cross-compiles; the auditor
 * fails an app build whose binary breaks a declared check.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, familyEnv, FORBIDDEN_IN_RUNTIME, readImage, type Built } from "./base-family.ts";
import { kiln, mustRun, REPO, runCommand, writeCatalog } from "./helpers.ts";

const env = familyEnv();
const PLATFORMS = ["linux/amd64", "linux/arm64"];
const loaded = `kiln-e2e/base:runtime-${process.pid}`;
let debian: Built;
let runtime: Built;

beforeAll(async () => {
  debian = await build(env, "debian");
});

afterAll(async () => {
  await runCommand("docker", ["rmi", "-f", loaded]);
});

describe("base:runtime", () => {
  it("builds bit for bit the same twice with --no-cache, for both platforms", async () => {
    runtime = await build(env, "base:runtime", ["--no-cache"]);
    const again = await build(env, "base:runtime", ["--no-cache"]);
    expect(Object.keys(runtime.manifests).sort()).toEqual(PLATFORMS);
    expect(again.digest).toBe(runtime.digest);
    expect(again.manifests).toEqual(runtime.manifests);
  });

  it.each(PLATFORMS)("%s: only runtime files, the layout conventions, no RUN", async (platform) => {
    const img = await readImage(env, runtime.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    const triplet = platform === "linux/amd64" ? "x86_64-linux-gnu" : "aarch64-linux-gnu";
    for (const need of ["usr/bin/bash", `usr/lib/${triplet}/libc.so.6`, `usr/lib/${triplet}/libgcc_s.so.1`, "etc/ssl/certs/ca-certificates.crt", "usr/share/zoneinfo/Europe/Paris", "etc/services", "boot/entrypoint.sh", "usr/share/doc/libc6/copyright"]) {
      expect(img.files.has(need), need).toBe(true);
    }
    expect(img.files.get("bin")).toMatchObject({ type: "symlink", linkname: "usr/bin" });
    expect(String(await img.read("etc/passwd"))).toContain("app:x:2000:2000:app:/tmp:/usr/sbin/nologin\n");
    expect(String(await img.read("etc/group"))).toContain("app:x:2000:\n");
    expect(String(await img.read("etc/ssl/certs/ca-certificates.crt")).match(/BEGIN CERTIFICATE/g)!.length).toBeGreaterThan(100);
    for (const dir of ["data", "certs"]) expect(img.files.get(dir)).toMatchObject({ type: "directory", mode: 0o700, uid: 2000, gid: 2000 });
    for (const dir of ["boot", "config"]) expect(img.files.get(dir)).toMatchObject({ type: "directory", mode: 0o755, uid: 0, gid: 0 });
    expect(img.files.get("tmp")).toMatchObject({ mode: 0o1777 });
    expect(img.config.config.User).toBe("2000:2000");
    expect(img.config.config.Entrypoint).toEqual(["/boot/entrypoint.sh"]);
    expect(img.config.config.Env).toEqual(expect.arrayContaining(["XDG_CONFIG_HOME=/tmp/config", "XDG_DATA_HOME=/tmp/data", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"]));
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    expect(img.manifest.layers).toHaveLength(1);
  });

  it.each(PLATFORMS)("%s: at most half the debian image, compressed", async (platform) => {
    const base = await readImage(env, debian.digest, platform);
    const img = await readImage(env, runtime.digest, platform);
    console.log(`${platform}: base:runtime ${(img.compressed / 1e6).toFixed(2)} MB, debian ${(base.compressed / 1e6).toFixed(2)} MB (compressed)`);
    expect(img.compressed).toBeLessThanOrEqual(base.compressed * 0.5);
  });

  it("passes kiln test on both platforms: policy and hardened command tests", async () => {
    const r = await kiln(["test", "base:runtime"], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code).toBe(0);
  });

  it("runs bash as uid 2000 read-only with no capabilities, on amd64 and arm64 (qemu)", async () => {
    const [name, tag] = loaded.split(":");
    await build(env, "base:runtime", ["--load", "--image", name!, "--tag", tag!]);
    for (const [platform, machine] of [["linux/amd64", "x86_64"], ["linux/arm64", "aarch64"]]) {
      const out = await mustRun("docker", ["run", "--rm", "--platform", platform!, "--read-only", "--cap-drop=ALL", "--security-opt", "no-new-privileges", "--tmpfs", "/tmp", loaded, "bash", "-c", 'echo "$UID $HOSTTYPE $HOME"; TZ=Asia/Tokyo printf "%(%H)T\\n" 0; [ -w /data ] || echo data-not-writable']);
      expect(out).toBe(`2000 ${machine} /tmp\n09\ndata-not-writable\n`);
    }
    const none = await runCommand("docker", ["run", "--rm", loaded]);
    expect(none.code).toBe(64);
    expect(none.stderr).toContain("base runtime: nothing to run");
  });
});

describe("base:builder and base:auditor in an app build", () => {
  let catalog: string;

  beforeAll(async () => {
    await build(env, "base:auditor", ["--platform", "linux/amd64"]);
    await build(env, "base:builder", ["--platform", "linux/amd64"]);
    // A catalog with the real debian and base definitions and one small app.
    catalog = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-e2e-app-"));
    for (const image of ["debian", "base"]) await fs.cp(path.join(REPO, "images", image), path.join(catalog, "images", image), { recursive: true });
    // The definitions import the library by a relative path.
    await fs.symlink(path.join(REPO, "src"), path.join(catalog, "src"));
    const app = (flags: string) => `FROM --platform=$BUILDPLATFORM base-builder AS build
ARG TARGETARCH
RUN --network=none set -eux; cross="$(cross-env --check)"; eval "$cross"; mkdir -p /dist/boot; \\
    $CC ${flags} -o /dist/boot/healthcheck /usr/local/src/healthcheck/healthcheck.c
FROM --platform=$BUILDPLATFORM base-auditor AS audit
ARG TARGETARCH
COPY --from=build /dist /dist
RUN --network=none audit /dist > /audit.txt 2>&1 || { cat /audit.txt; exit 1; }
FROM base-runtime AS image
COPY --from=audit /dist/ /
COPY --from=audit /audit.txt /audit.txt
ENTRYPOINT ["/boot/healthcheck"]
`;
    const def = (name: string) => `import { defineImage } from "{{kiln}}";
export default defineImage({ name: "${name}", category: "experimental", description: "audit test", parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" } });
`;
    await writeCatalog(catalog, {
      "images/good/image.ts": def("good"),
      "images/good/Dockerfile": app("$CFLAGS $LDFLAGS"),
      "images/weak/image.ts": def("weak"),
      "images/weak/Dockerfile": app("-O0 -fno-stack-protector -no-pie -Wl,-z,lazy -Wl,-z,norelro"),
    });
    for (const name of ["good", "weak"]) {
      const r = await kiln(["lock", name], { ...env, KILN_CATALOG: catalog });
      expect(r.stderr).toBe("");
    }
  });

  afterAll(async () => {
    if (catalog) await fs.rm(catalog, { recursive: true, force: true });
  });

  it("cross-compiles a hardened program that passes the audit, for amd64 and arm64", async () => {
    const r = await kiln(["build", "good", "--json", "--progress", "plain"], { ...env, KILN_CATALOG: catalog });
    expect(r.code).toBe(0);
    const built = JSON.parse(r.stdout) as Built;
    expect(Object.keys(built.manifests).sort()).toEqual(PLATFORMS);
    // The audit's report travels in the image, for both platforms.
    for (const platform of PLATFORMS) {
      const report = String(await (await readImage(env, built.digest, platform)).read("audit.txt"));
      expect(report).toMatch(/audit: ok +\/dist\/boot\/healthcheck \[dynamic\]: arch pie relro bindnow canary fortify runs libs/);
    }
  });

  it("fails the build naming the binary and every broken check", async () => {
    const r = await kiln(["build", "weak", "--platform", "linux/arm64", "--progress", "plain"], { ...env, KILN_CATALOG: catalog });
    expect(r.code).not.toBe(0);
    for (const check of ["pie", "relro", "bindnow", "canary", "fortify"]) {
      expect(r.stderr).toMatch(new RegExp(`audit: FAIL /dist/boot/healthcheck \\[dynamic\\]: ${check} `));
    }
    expect(r.stderr).not.toMatch(/FAIL .*: (arch|runs|libs) /);
  });
});
