/**
 * `kiln sbom` on the family's images (debian, base:runtime, router; built once
 * and shared): SPDX 2.3 and CycloneDX 1.5 for both platforms pass the official
 * schemas, list every package the image says it holds (dpkg status or
 * deb-install manifests, read here independently) with the sha256 its lock
 * pins, and come out byte for byte the same on a second run. Unknown images,
 * missing platforms and images not built give one line and exit 1, writing nothing.
 */
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDeb822 } from "../../src/debian/deb822.ts";
import { OciStore } from "../../src/oci/store.ts";
import { cyclonedxJson } from "../../src/sbom/cyclonedx.ts";
import { sbomSubject } from "../../src/sbom/index.ts";
import { spdxJson } from "../../src/sbom/spdx.ts";
import { cyclonedxErrors, spdxErrors } from "../support/sbom-schemas.ts";
import { build, buildBase, familyEnv, readImage } from "./base-family.ts";
import { kiln } from "./helpers.ts";

const env = familyEnv();
const PLATFORMS = ["linux/amd64", "linux/arm64"];
const IMAGES = ["debian", "base:runtime", "router"];
let out: string;

beforeAll(async () => {
  await buildBase(env);
  for (const ref of IMAGES) await build(env, ref);
  out = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-sbom-"));
});

afterAll(async () => {
  await fs.rm(out, { recursive: true, force: true });
});

/** name/version/arch -> sha256 over the locks of the image and its ancestors, as the catalog copy holds them. */
function lockedSha256(images: string[], arch: string): Map<string, string> {
  const pins = new Map<string, string>();
  for (const name of images) {
    const lock = JSON.parse(readFileSync(path.join(env.KILN_CATALOG!, "images", name, "kiln.lock.json"), "utf8"));
    for (const p of lock.debian?.packages?.[arch] ?? []) pins.set(`${p.name} ${p.version} ${p.architecture}`, p.sha256);
  }
  return pins;
}

const CHAIN: Record<string, string[]> = { debian: ["debian"], "base:runtime": ["base", "debian"], router: ["router", "base", "debian"] };

/** What the image says it holds: dpkg's status, else deb-install's manifests. */
async function installed(digest: string, platform: string): Promise<string[]> {
  const image = await readImage(env, digest, platform);
  const status = await image.read("var/lib/dpkg/status");
  if (status) {
    return parseDeb822(status.toString("utf8"))
      .filter((p) => p.Status === "install ok installed")
      .map((p) => `${p.Package} ${p.Version} ${p.Architecture}`);
  }
  const lines: string[] = [];
  for (const name of image.files.keys()) {
    if (!/^usr\/share\/kiln\/packages\/.*\.tsv$/.test(name)) continue;
    for (const line of (await image.read(name))!.toString("utf8").split("\n")) if (line && !line.startsWith("#")) lines.push(line.split("\t").slice(0, 3).join(" "));
  }
  return lines;
}

async function sbom(ref: string, platform: string, format: string, file: string) {
  const r = await kiln(["sbom", ref, "--platform", platform, "--format", format, "--out", file], env);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return readFileSync(file);
}

describe.each(IMAGES)("kiln sbom %s", (ref) => {
  it.each(PLATFORMS)("%s: both formats pass the official schemas and list every installed package with the lock's sha256", async (platform) => {
    const arch = platform.split("/")[1]!;
    // In process (the library the CLI and attachments use): one read of the image for both formats.
    const subject = await sbomSubject(await OciStore.open(env.KILN_STORE!), ref, platform, env.KILN_CATALOG!);
    const spdx = spdxJson(subject);
    const cdx = cyclonedxJson(subject);
    expect(spdxErrors(spdx.toString())).toEqual([]);
    expect(await cyclonedxErrors(cdx.toString())).toEqual([]);

    const pins = lockedSha256(CHAIN[ref]!, arch);
    // The image the documents describe, read here with another reader.
    const held = await installed(subject.digest, platform);
    expect(held.length).toBeGreaterThan(ref === "debian" ? 80 : 8);
    const doc = JSON.parse(spdx.toString());
    const bom = JSON.parse(cdx.toString());
    const spdxDebs = new Map<string, string>();
    for (const p of doc.packages.filter((p: { SPDXID: string }) => p.SPDXID.startsWith("SPDXRef-deb-"))) {
      const purl = p.externalRefs[0].referenceLocator as string;
      spdxDebs.set(`${p.name} ${p.versionInfo} ${/arch=([^&]+)/.exec(purl)![1]}`, p.checksums[0].checksumValue);
    }
    const cdxDebs = new Map<string, string>();
    for (const c of bom.components.filter((c: { purl?: string }) => c.purl?.startsWith("pkg:deb/debian/"))) {
      const arch = c.properties.find((p: { name: string }) => p.name === "kiln:debian:architecture").value;
      cdxDebs.set(`${c.name} ${c.version} ${arch}`, c.hashes[0].content);
    }
    for (const key of held) {
      expect(pins.get(key), `${key} is pinned by a lock`).toMatch(/^[0-9a-f]{64}$/);
      expect(spdxDebs.get(key), `${key} in the SPDX document`).toBe(pins.get(key));
      expect(cdxDebs.get(key), `${key} in the CycloneDX BOM`).toBe(pins.get(key));
    }
    expect(spdxDebs.size).toBe(new Set(held).size);
    expect(cdxDebs.size).toBe(new Set(held).size);
    const index = await (await OciStore.open(env.KILN_STORE!)).require(subject.digest);
    expect(doc.packages.find((p: { SPDXID: string }) => p.SPDXID === "SPDXRef-Image").versionInfo).toBe(index.manifests[platform]!.digest);
  });
});

describe("kiln sbom", () => {
  it("names the parent the router is built on and the build stages by digest", async () => {
    const doc = JSON.parse((await sbom("router", "linux/arm64", "spdx", path.join(out, "router-parents.spdx.json"))).toString());
    const runtime = doc.packages.find((p: { SPDXID: string }) => p.SPDXID === "SPDXRef-parent-base-runtime");
    const lock = JSON.parse(readFileSync(path.join(env.KILN_CATALOG!, "images", "router", "kiln.lock.json"), "utf8"));
    expect(runtime.versionInfo).toBe(lock.parents["base-runtime"].manifests["linux/arm64"]);
    expect(runtime.versionInfo).toMatch(/^sha256:[0-9a-f]{64}$/);
    const rel = (id: string) => doc.relationships.find((r: { spdxElementId: string; relatedSpdxElement: string }) => r.spdxElementId === id || r.relatedSpdxElement === id).relationshipType;
    expect(rel("SPDXRef-parent-base-runtime")).toBe("DESCENDANT_OF");
    expect(rel("SPDXRef-parent-base-builder")).toBe("BUILD_DEPENDENCY_OF");
  });

  it("gives the same bytes on a second run, in another process", async () => {
    for (const format of ["spdx", "cyclonedx"] as const) {
      const a = await sbom("router", "linux/amd64", format, path.join(out, `again.${format}`));
      const subject = await sbomSubject(await OciStore.open(env.KILN_STORE!), "router", "linux/amd64", env.KILN_CATALOG!);
      expect((format === "spdx" ? spdxJson(subject) : cyclonedxJson(subject)).equals(a)).toBe(true);
    }
  });

  it("says in one line what is wrong with an unknown image, a missing platform or an image not built, and writes nothing", async () => {
    const emptyStore = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-sbom-store-"));
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [["sbom", "nosuchimage"], env, /^kiln: unknown image "nosuchimage"/],
      [["sbom", "base:builder", "--platform", "linux/arm64"], env, /^kiln: image base:builder in the store has no linux\/arm64 \(it holds linux\/amd64\); build it for that platform: kiln build base:builder --platform linux\/arm64$/],
      [["sbom", "router", "--platform", "linux/amd64"], { ...env, KILN_STORE: emptyStore }, /^kiln: image router:image is not in the local store \(.*\); build it first: kiln build router:image$/],
      [["sbom", "router"], env, /^kiln: image router holds 2 platforms \(linux\/amd64, linux\/arm64\); choose one/],
    ];
    try {
      for (const [args, e, message] of cases) {
        const file = path.join(out, "never.json");
        const r = await kiln([...args, "--out", file], e);
        expect(r.code, args.join(" ")).toBe(1);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
        expect(r.stderr.trim()).toMatch(message);
        expect(existsSync(file)).toBe(false);
      }
    } finally {
      await fs.rm(emptyStore, { recursive: true, force: true });
    }
  });
});
