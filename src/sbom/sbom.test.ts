import { describe, expect, it } from "vitest";
import { cyclonedxErrors, spdxErrors } from "../../test/support/sbom-schemas.ts";
import { KilnError } from "../errors.ts";
import type { Lock } from "../lock/schema.ts";
import { parseDpkgStatus, resolveInImage, type ImageContents } from "./contents.ts";
import { cyclonedxJson } from "./cyclonedx.ts";
import { derivedUuid, ociPurl } from "./identity.ts";
import { debPurl, gitSources, lockedPins, npmPackages, npmPurl, parentImages, pinnedPackages, platformDownloads, type SbomSubject } from "./inventory.ts";
import { spdxJson } from "./spdx.ts";

const sha = (c: string) => c.repeat(64);
const deb = (name: string, version: string, architecture: string, sha256: string) => ({ name, version, architecture, archive: "debian" as const, path: `pool/main/x/${name}_${version}_${architecture}.deb`, size: 1, sha256 });

const baseLock: Lock = {
  lockVersion: 1,
  image: "base",
  debian: { suite: "bookworm", snapshot: "20261201T021334Z", request: { set: "packages", packages: [], foreignArchitectures: [] }, packages: { amd64: [deb("libc6", "2.36-9+deb12u14", "amd64", sha("a")), deb("tzdata", "2026f-0+deb12u1", "all", sha("b"))] } },
};
const appLock: Lock = {
  lockVersion: 1,
  image: "app",
  debian: { suite: "bookworm", snapshot: "20261203T021527Z", request: { set: "packages", packages: ["libstdc++6"], foreignArchitectures: [] }, packages: { amd64: [deb("libstdc++6", "1:12.2.0-14", "amd64", sha("c"))] } },
  git: { src: { url: "https://example.org/src.git", ref: "v1", commit: "1".repeat(40) } },
  downloads: {
    notes: { any: { url: "https://example.org/notes.txt", sha512: "e".repeat(128) } },
    tool: { "linux/amd64": { url: "https://example.org/tool-amd64", sha256: sha("d") }, "linux/arm64": { url: "https://example.org/tool-arm64", sha256: sha("f") } },
  },
  npm: {
    server: {
      lockfile: "context/package-lock.json",
      sha256: sha("5"),
      packages: [
        { path: "node_modules/parse-server", version: "7.5.2", url: "https://registry.npmjs.org/parse-server/-/parse-server-7.5.2.tgz", sha512: "a".repeat(128) },
        { path: "node_modules/@babel/runtime", version: "7.26.0", url: "https://registry.npmjs.org/@babel/runtime/-/runtime-7.26.0.tgz", sha512: "b".repeat(128) },
      ],
    },
  },
  parents: {
    "base-runtime": { ref: "base:runtime", index: `sha256:${sha("1")}`, manifests: { "linux/amd64": `sha256:${sha("2")}` } },
    "base-builder": { ref: "base:builder", index: `sha256:${sha("3")}`, manifests: { "linux/amd64": `sha256:${sha("4")}` } },
  },
};
const chain = [
  { image: "app", lock: appLock },
  { image: "base", lock: baseLock },
];

const contents = (extra: ImageContents["packages"] = []): ImageContents => ({
  packages: [
    { name: "tzdata", version: "2026f-0+deb12u1", architecture: "all", sha256: sha("b"), source: "usr/share/kiln/packages/base-runtime.tsv" },
    { name: "libc6", version: "2.36-9+deb12u14", architecture: "amd64", sha256: sha("a"), source: "usr/share/kiln/packages/base-runtime.tsv" },
    { name: "libstdc++6", version: "1:12.2.0-14", architecture: "amd64", sha256: sha("c"), source: "usr/share/kiln/packages/app.tsv" },
    ...extra,
  ],
  copyrights: new Map([["tzdata", "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: public-domain\n"]]),
});

function subject(): SbomSubject {
  return {
    ref: "app:image",
    platform: "linux/amd64",
    digest: `sha256:${sha("9")}`,
    manifest: `sha256:${sha("8")}`,
    created: "2026-12-03T02:15:27Z",
    packages: pinnedPackages("app", contents(), lockedPins(chain, "amd64"), "kiln build app"),
    git: gitSources(appLock),
    downloads: platformDownloads(appLock, "linux/amd64"),
    npm: npmPackages(appLock),
    parents: parentImages(appLock, "linux/amd64", ["sha256:l1", "sha256:l2", "sha256:l3"], (m) => (m === `sha256:${sha("2")}` ? ["sha256:l1", "sha256:l2"] : ["sha256:x"])),
  };
}

describe("package identity", () => {
  it("writes Debian purls with arch and distro, encoding what purl requires", () => {
    expect(debPurl("libstdc++6", "1:12.2.0-14", "amd64", "bookworm")).toBe("pkg:deb/debian/libstdc%2B%2B6@1:12.2.0-14?arch=amd64&distro=bookworm");
    expect(debPurl("tzdata", "2026f-0+deb12u1", "all", "bookworm")).toBe("pkg:deb/debian/tzdata@2026f-0+deb12u1?arch=all&distro=bookworm");
    expect(ociPurl("router:image", `sha256:${sha("1")}`, "linux/arm64")).toBe(`pkg:oci/router@sha256:${sha("1")}?arch=arm64`);
  });

  it("writes npm purls, scoped packages with their namespace encoded", () => {
    expect(npmPurl("parse-server", "7.5.2")).toBe("pkg:npm/parse-server@7.5.2");
    expect(npmPurl("@babel/runtime", "7.26.0")).toBe("pkg:npm/%40babel/runtime@7.26.0");
    expect(npmPackages(appLock).map((n) => `${n.input} ${n.name} ${n.path}`)).toEqual(["server @babel/runtime node_modules/@babel/runtime", "server parse-server node_modules/parse-server"]);
  });

  it("derives RFC 4122 version 5 UUIDs", () => {
    expect(derivedUuid("kiln test")).toBe("62ef0861-bbc4-5bc5-afc7-d0c86d0b3d26");
  });
});

describe("what the image holds", () => {
  it("reads installed packages from dpkg's status, with their source package", () => {
    const status = "Package: libgcc-s1\nStatus: install ok installed\nArchitecture: amd64\nSource: gcc-12 (12.2.0-14)\nVersion: 12.2.0-14\n\nPackage: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1\n";
    expect(parseDpkgStatus(status)).toEqual([{ name: "libgcc-s1", version: "12.2.0-14", architecture: "amd64", source: "var/lib/dpkg/status", sourcePackage: "gcc-12" }]);
    expect(() => parseDpkgStatus("not a status file\n")).toThrow(KilnError);
  });

  it("follows links inside the image, relative and absolute", () => {
    const entry = (type: "file" | "dir" | "symlink", linkname?: string) => ({ path: "", type, mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0, ...(linkname ? { linkname } : {}) });
    const files = new Map([
      ["usr/share/doc/gcc-12-base/copyright", entry("file")],
      ["usr/share/doc/libgcc-s1", entry("symlink", "gcc-12-base")],
      ["usr/share/doc/abs", entry("symlink", "/usr/share/doc/gcc-12-base")],
    ]);
    expect(resolveInImage(files, "usr/share/doc/libgcc-s1/copyright")).toBe("usr/share/doc/gcc-12-base/copyright");
    expect(resolveInImage(files, "usr/share/doc/abs/copyright")).toBe("usr/share/doc/gcc-12-base/copyright");
  });
});

describe("matching the image to its locks", () => {
  it("gives each package the lock's sha256, the snapshot URL and its license", () => {
    const s = subject();
    expect(s.packages.map((p) => `${p.name} ${p.architecture} ${p.sha256[0]}`)).toEqual(["libc6 amd64 a", "libstdc++6 amd64 c", "tzdata all b"]);
    expect(s.packages[1]!.downloadLocation).toBe("https://snapshot.debian.org/archive/debian/20261203T021527Z/pool/main/x/libstdc++6_1:12.2.0-14_amd64.deb");
    expect(s.packages[2]!.licenses?.expression).toBe("LicenseRef-public-domain");
    expect(s.packages[0]!.licenses).toBeUndefined();
  });

  it("refuses a package no lock pins, naming it and where the image lists it", () => {
    const extra = [{ name: "curl", version: "7.88.1-10", architecture: "amd64", source: "var/lib/dpkg/status" }];
    let error: KilnError | undefined;
    try {
      pinnedPackages("image app:image (linux/amd64)", contents(extra), lockedPins(chain, "amd64"), "kiln build app:image");
    } catch (e) {
      error = e as KilnError;
    }
    expect(error).toBeInstanceOf(KilnError);
    expect(error!.toLine()).toMatch(
      /^image app:image \(linux\/amd64\) holds 1 Debian package\(s\) no lock pins: curl 7.88.1-10 \(amd64, from var\/lib\/dpkg\/status\); the image in the store was not built from the current locks; rebuild it \(kiln build app:image\)$/,
    );
  });

  it("refuses a package whose manifest names another .deb than the lock", () => {
    const c = contents();
    c.packages[1] = { ...c.packages[1]!, sha256: sha("0") };
    expect(() => pinnedPackages("app", c, lockedPins(chain, "amd64"), "kiln build app")).toThrow(/libc6 2.36-9\+deb12u14 \(amd64\): usr\/share\/kiln\/packages\/base-runtime.tsv records sha256 0{64}, the lock pins a{64}/);
  });

  it("takes the platform's downloads and the shared ones, and tells the base image from build stages", () => {
    const s = subject();
    expect(s.downloads).toEqual([
      { name: "notes", url: "https://example.org/notes.txt", algorithm: "sha512", hash: "e".repeat(128) },
      { name: "tool", url: "https://example.org/tool-amd64", algorithm: "sha256", hash: sha("d") },
    ]);
    expect(s.parents.map((p) => `${p.name} ${p.base}`)).toEqual(["base-builder false", "base-runtime true"]);
  });
});

describe("documents", () => {
  it("writes SPDX 2.3 that the official schema accepts, the same bytes every time", () => {
    const a = spdxJson(subject());
    expect(spdxErrors(a.toString())).toEqual([]);
    expect(spdxJson(subject()).equals(a)).toBe(true);
    const doc = JSON.parse(a.toString());
    expect(doc.creationInfo.created).toBe("2026-12-03T02:15:27Z");
    expect(doc.documentNamespace).toBe(`urn:uuid:${derivedUuid(`spdx sha256:${sha("9")} linux/amd64 sha256:${sha("8")}`)}`);
    const rel = (t: string) => doc.relationships.filter((r: { relationshipType: string }) => r.relationshipType === t).length;
    expect([rel("CONTAINS"), rel("GENERATED_FROM"), rel("DEPENDS_ON"), rel("DESCENDANT_OF"), rel("BUILD_DEPENDENCY_OF")]).toEqual([3, 1, 2 + 2, 1, 1]);
    const server = doc.packages.find((p: { name: string }) => p.name === "parse-server");
    expect([server.versionInfo, server.downloadLocation, server.checksums[0].algorithm, server.externalRefs[0].referenceLocator]).toEqual(["7.5.2", "https://registry.npmjs.org/parse-server/-/parse-server-7.5.2.tgz", "SHA512", "pkg:npm/parse-server@7.5.2"]);
    expect(doc.hasExtractedLicensingInfos.map((l: { licenseId: string }) => l.licenseId)).toEqual(["LicenseRef-public-domain"]);
    const std = doc.packages.find((p: { name: string }) => p.name === "libstdc++6");
    expect(std.checksums).toEqual([{ algorithm: "SHA256", checksumValue: sha("c") }]);
    expect(std.externalRefs[0].referenceLocator).toBe("pkg:deb/debian/libstdc%2B%2B6@1:12.2.0-14?arch=amd64&distro=bookworm");
  });

  it("writes CycloneDX 1.5 that the official schema accepts, the same bytes every time", async () => {
    const a = cyclonedxJson(subject());
    expect(await cyclonedxErrors(a.toString())).toEqual([]);
    expect(cyclonedxJson(subject()).equals(a)).toBe(true);
    const bom = JSON.parse(a.toString());
    expect(bom.specVersion).toBe("1.5");
    expect(bom.serialNumber).toBe(`urn:uuid:${derivedUuid(`cyclonedx sha256:${sha("9")} linux/amd64 sha256:${sha("8")}`)}`);
    expect(bom.metadata.timestamp).toBe("2026-12-03T02:15:27.000Z");
    const builder = bom.components.find((c: { "bom-ref": string }) => c["bom-ref"] === "parent:base-builder");
    expect([builder.scope, builder.version]).toEqual(["excluded", `sha256:${sha("3")}`]);
    expect(bom.dependencies.find((d: { ref: string }) => d.ref === "image").dependsOn).toHaveLength(3 + 1 + 2 + 2 + 2);
    const babel = bom.components.find((c: { purl?: string }) => c.purl === "pkg:npm/%40babel/runtime@7.26.0");
    expect([babel.name, babel.version, babel.hashes[0].alg]).toEqual(["@babel/runtime", "7.26.0", "SHA-512"]);
  });

  it("rejects a document the schemas do not allow (the validators can fail)", async () => {
    expect(spdxErrors(JSON.stringify({ spdxVersion: "SPDX-2.3" })).length).toBeGreaterThan(0);
    expect((await cyclonedxErrors(JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.5", components: [{ type: "nonsense", name: "x" }] }))).length).toBeGreaterThan(0);
  });
});
