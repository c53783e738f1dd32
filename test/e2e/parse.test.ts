/**
 * images/parse on the real engine, built once: parse-server installed with `npm ci
 * --offline` from its committed package-lock and the verified tarballs (npm itself
 * pinned the same way, not shipped), on Debian's Node.js 18 unpacked from the lock.
 * The node_modules tree is pure JavaScript: the same layer for amd64 and arm64.
 * `kiln test` proves it on amd64 (arm64 too, under qemu, with KILN_E2E_ALL_PLATFORMS=1)
 * beside the family's postgres image as a fixture: a class made with the master key, an
 * object created over the REST API with curl from the tools image and queried back, a
 * wrong application id and a wrong REST API key refused, a class a client may not make
 * refused, the object seen as a row with psql, and served again after a restart.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { build, buildBase, clientProofs, familyEnv, FORBIDDEN_IN_RUNTIME, proofPlatformFlags, proofPlatforms, readImage, type Built } from "./base-family.ts";
import { kiln, REPO } from "./helpers.ts";
import { cyclonedxErrors, spdxErrors } from "../support/sbom-schemas.ts";

const env = familyEnv();
let parse: Built;

beforeAll(async () => {
  await buildBase(env);
  await build(env, "tools");
  await build(env, "postgres");
  parse = await build(env, "parse");
});

const REST = [
  "setup",
  "the class is made with the master key",
  "an object is created over the REST API",
  "it is queried back",
  "a wrong application id is refused",
  "a wrong REST API key is refused",
  "a client may not make a class",
  "the object is a row in postgres",
  "after a restart the object is still served",
  "the server logs its start, no stack trace",
].map((s) => `client-test rest api / ${s}`);

const TRIPLET: Record<string, string> = { amd64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu" };

describe("parse", () => {
  it.each(["linux/amd64", "linux/arm64"])("%s: Node.js and parse-server on base:runtime, their manifests, no npm, no native addon, no RUN", async (platform) => {
    const arch = platform.split("/")[1]!;
    const img = await readImage(env, parse.digest, platform);
    const names = [...img.files.keys()];
    for (const bad of FORBIDDEN_IN_RUNTIME) expect(names.filter((n) => bad.test(n))).toEqual([]);
    for (const need of [
      "usr/bin/node",
      `usr/lib/${TRIPLET[arch]}/libnode.so.108`,
      "usr/share/doc/nodejs/copyright",
      "app/server.js",
      "app/package-lock.json",
      "app/node_modules/parse-server/package.json",
      "app/node_modules/parse-server/LICENSE",
      "app/node_modules/bcryptjs/package.json",
      "app/node_modules/crypto-js/aes.js",
      "boot/entrypoint.sh",
      "boot/healthcheck.sh",
    ]) {
      expect(img.files.has(need), need).toBe(true);
    }
    // npm installed the tree and stayed in the build stage; the build platform's bcrypt addon was dropped.
    for (const never of ["usr/bin/npm", "opt/npm", "app/node_modules/npm", "app/node_modules/@node-rs", "app/node_modules/.package-lock.json", "usr/include/node"]) {
      expect(img.files.has(never), never).toBe(false);
    }
    expect(names.filter((n) => n.endsWith(".node") || /^app\/node_modules\/.*\.(map|ts)$/.test(n))).toEqual([]);
    const manifest = (await img.read("usr/share/kiln/packages/parse.tsv"))!.toString("utf8");
    expect(manifest).toMatch(new RegExp(`\\nnodejs\\t18\\.[^\\t]+\\t${arch}\\t[0-9a-f]{64}\\n`));
    expect(manifest).toMatch(new RegExp(`\\nlibnode108\\t18\\.[^\\t]+\\t${arch}\\t[0-9a-f]{64}\\n`));
    const lock = JSON.parse((await img.read("app/package-lock.json"))!.toString("utf8")) as { packages: Record<string, { version?: string }> };
    expect(lock.packages["node_modules/parse-server"]!.version).toBe("7.5.4");
    expect((img.config.history ?? []).filter((h) => /\bRUN\b/.test(h.created_by ?? ""))).toEqual([]);
    const config = img.config.config as typeof img.config.config & { Volumes?: Record<string, unknown>; WorkingDir?: string };
    expect(config.User).toBe("2000:2000");
    expect(config.Healthcheck?.Test).toEqual(["CMD", "/boot/healthcheck.sh"]);
    expect(Object.keys(config.Volumes ?? {})).toEqual(["/data"]);
    expect(config.WorkingDir).toBe("/data");
    // No key or password in the config: they come from files.
    expect((config.Env ?? []).filter((e) => /KEY|PASSWORD/.test(e.split("=")[0]!))).toEqual([]);
    console.log(`${platform}: parse ${(img.compressed / 1e6).toFixed(2)} MB compressed`);
    expect(img.compressed).toBeLessThan(60e6);
  });

  it("ships the same node_modules layer for amd64 and arm64 (pure JavaScript, installed once on the build platform)", async () => {
    const [amd64, arm64] = await Promise.all(["linux/amd64", "linux/arm64"].map((p) => readImage(env, parse.digest, p)));
    const shared = amd64!.manifest.layers.filter((l) => arm64!.manifest.layers.some((o) => o.digest === l.digest));
    expect(shared.filter((l) => l.size > 10e6)).toHaveLength(1);
  });

  it("its SBOMs list the npm packages with the lock's sha512, parse-server at the version the image holds", async () => {
    const lock = JSON.parse(await fs.readFile(path.join(REPO, "images/parse/kiln.lock.json"), "utf8")) as { npm: Record<string, { packages: { path: string; version: string; sha512: string }[] }> };
    const pinned = lock.npm["parse-server"]!.packages.find((p) => p.path === "node_modules/parse-server")!;
    const img = await readImage(env, parse.digest, "linux/amd64");
    const installed = JSON.parse((await img.read("app/node_modules/parse-server/package.json"))!.toString("utf8")) as { version: string };
    expect(installed.version).toBe(pinned.version);
    const [spdx, cdx] = await Promise.all(["spdx", "cyclonedx"].map((f) => kiln(["sbom", "parse", "--platform", "linux/amd64", "--format", f], env)));
    expect(spdx!.code, spdx!.stderr).toBe(0);
    expect(spdxErrors(spdx!.stdout)).toEqual([]);
    expect(await cyclonedxErrors(cdx!.stdout)).toEqual([]);
    const pkg = (JSON.parse(spdx!.stdout) as { packages: { name: string; versionInfo?: string; checksums?: { algorithm: string; checksumValue: string }[]; externalRefs?: { referenceLocator: string }[] }[] }).packages;
    const server = pkg.find((p) => p.name === "parse-server")!;
    expect(server.checksums).toEqual([{ algorithm: "SHA512", checksumValue: pinned.sha512 }]);
    expect(server.externalRefs![0]!.referenceLocator).toBe(`pkg:npm/parse-server@${pinned.version}`);
    const total = Object.values(lock.npm).reduce((n, l) => n + l.packages.length, 0);
    expect(pkg.filter((p) => p.externalRefs?.[0]?.referenceLocator.startsWith("pkg:npm/"))).toHaveLength(total);
  });

  it(`passes kiln test on ${proofPlatforms().join(" and ")}, the REST proofs beside postgres included`, async () => {
    // Under qemu (arm64) parse-server takes minutes to load its 636 packages; natively about 10 s.
    const r = await kiln(["test", "parse", "--health-timeout", "600", ...proofPlatformFlags()], env);
    expect(r.stderr + r.stdout).not.toMatch(/✗/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const platform of proofPlatforms()) expect(clientProofs(r.stdout, `parse:image ${platform}`), platform).toEqual(REST.map((p) => `✓ ${p}`));
    // runtime.standalone: false: health and the port probe are judged on the scenario's service, once per platform.
    for (const rule of ["hardened-run", "healthy", "probe-tcp"]) expect(r.stdout.match(new RegExp(`✓ ${rule}\\b`, "g")) ?? [], rule).toHaveLength(proofPlatforms().length);
  });
});
