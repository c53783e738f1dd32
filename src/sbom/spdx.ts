/**
 * SPDX 2.3 JSON from an SbomSubject. The document describes the platform's
 * image; the image CONTAINS its Debian packages, is GENERATED_FROM its git
 * sources, DEPENDS_ON its downloads and npm packages (the lock does not say which of them the
 * build only used), is a DESCENDANT_OF the parent it is built
 * on; build-stage parents are a BUILD_DEPENDENCY_OF it. Everything is derived
 * from the subject: the namespace from the image's digests, the time from its SOURCE_DATE_EPOCH.
 */
import { stableStringify } from "../lock/schema.ts";
import type { SbomParent, SbomSubject } from "./inventory.ts";
import { derivedUuid, KILN_TOOL, ociPurl, parentDigest } from "./identity.ts";

interface SpdxChecksum {
  algorithm: "SHA256" | "SHA512";
  checksumValue: string;
}

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  downloadLocation: string;
  filesAnalyzed: false;
  checksums?: SpdxChecksum[];
  licenseConcluded: string;
  licenseDeclared: string;
  copyrightText: string;
  externalRefs?: { referenceCategory: "PACKAGE-MANAGER"; referenceType: "purl"; referenceLocator: string }[];
  primaryPackagePurpose?: "CONTAINER" | "LIBRARY" | "SOURCE" | "FILE";
  supplier?: string;
  comment?: string;
}

interface SpdxRelationship {
  spdxElementId: string;
  relationshipType: "DESCRIBES" | "CONTAINS" | "GENERATED_FROM" | "DEPENDS_ON" | "DESCENDANT_OF" | "BUILD_DEPENDENCY_OF";
  relatedSpdxElement: string;
}

export interface SpdxDocument {
  spdxVersion: "SPDX-2.3";
  dataLicense: "CC0-1.0";
  SPDXID: "SPDXRef-DOCUMENT";
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[] };
  packages: SpdxPackage[];
  relationships: SpdxRelationship[];
  hasExtractedLicensingInfos?: { licenseId: string; name: string; extractedText: string }[];
}

const NOASSERTION = "NOASSERTION";

/** SPDX ids allow letters, digits, `.` and `-`; equal ids after cleaning get a counter. */
function idMaker() {
  const used = new Set<string>();
  return (kind: string, name: string) => {
    const base = `SPDXRef-${kind}-${name.replace(/[^A-Za-z0-9.-]+/g, "-")}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
    used.add(id);
    return id;
  };
}

/** A package with what kiln does not assert (files, concluded license, copyright text) said so. */
function spdxPackage(fields: Pick<SpdxPackage, "SPDXID" | "name" | "downloadLocation"> & Partial<SpdxPackage>): SpdxPackage {
  return { filesAnalyzed: false, licenseConcluded: NOASSERTION, licenseDeclared: NOASSERTION, copyrightText: NOASSERTION, ...fields };
}

const purlRef = (locator: string) => [{ referenceCategory: "PACKAGE-MANAGER" as const, referenceType: "purl" as const, referenceLocator: locator }];

function parentPackage(p: SbomParent, platform: string, id: string): SpdxPackage {
  const digest = parentDigest(p);
  return spdxPackage({
    SPDXID: id,
    name: p.ref,
    versionInfo: digest,
    downloadLocation: NOASSERTION,
    checksums: [{ algorithm: "SHA256", checksumValue: digest.slice("sha256:".length) }],
    externalRefs: purlRef(ociPurl(p.ref, digest, p.base ? platform : undefined)),
    primaryPackagePurpose: "CONTAINER",
    comment: `parent ${p.name}: index ${p.index}${p.manifest ? `, ${platform} manifest ${p.manifest}` : ""}; ${p.base ? "the image is built on it" : "used by a build stage"}`,
  });
}

export function spdxDocument(s: SbomSubject): SpdxDocument {
  const id = idMaker();
  const image = "SPDXRef-Image";
  const packages: SpdxPackage[] = [
    spdxPackage({
      SPDXID: image,
      name: s.ref,
      versionInfo: s.manifest,
      downloadLocation: NOASSERTION,
      checksums: [{ algorithm: "SHA256", checksumValue: s.manifest.slice("sha256:".length) }],
      externalRefs: purlRef(ociPurl(s.ref, s.manifest, s.platform)),
      primaryPackagePurpose: "CONTAINER",
      comment: `${s.platform} of image ${s.digest}`,
    }),
  ];
  const relationships: SpdxRelationship[] = [{ spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: image }];
  /** Adds a package and how the image relates to it (the image is the subject unless `reverse`). */
  const add = (pkg: SpdxPackage, relationshipType: SpdxRelationship["relationshipType"], reverse = false) => {
    packages.push(pkg);
    relationships.push(reverse ? { spdxElementId: pkg.SPDXID, relationshipType, relatedSpdxElement: image } : { spdxElementId: image, relationshipType, relatedSpdxElement: pkg.SPDXID });
  };
  const refs = new Map<string, string>();
  for (const p of s.packages) {
    for (const [ref, name] of p.licenses?.refs ?? []) if (!refs.has(ref)) refs.set(ref, name);
    const deb = { name: p.name, versionInfo: p.version, supplier: "Organization: Debian", downloadLocation: p.downloadLocation, primaryPackagePurpose: "LIBRARY" as const };
    const checksums: SpdxChecksum[] = [{ algorithm: "SHA256", checksumValue: p.sha256 }];
    add(spdxPackage({ SPDXID: id("deb", `${p.name}-${p.architecture}`), ...deb, checksums, licenseDeclared: p.licenses?.expression ?? NOASSERTION, externalRefs: purlRef(p.purl) }), "CONTAINS");
  }
  for (const n of s.npm) {
    const checksums: SpdxChecksum[] = [{ algorithm: "SHA512", checksumValue: n.sha512 }];
    const npm = { name: n.name, versionInfo: n.version, downloadLocation: n.url, primaryPackagePurpose: "LIBRARY" as const, comment: `npm input ${n.input}: ${n.path}` };
    add(spdxPackage({ SPDXID: id("npm", `${n.input}-${n.path}`), ...npm, checksums, externalRefs: purlRef(n.purl) }), "DEPENDS_ON");
  }
  for (const g of s.git) {
    const source = { name: g.name, versionInfo: g.commit, downloadLocation: `git+${g.url}@${g.commit}`, comment: `git source ${g.url} at ${g.ref}` };
    add(spdxPackage({ SPDXID: id("git", g.name), ...source, primaryPackagePurpose: "SOURCE" }), "GENERATED_FROM");
  }
  for (const d of s.downloads) {
    const checksums: SpdxChecksum[] = [{ algorithm: d.algorithm === "sha256" ? "SHA256" : "SHA512", checksumValue: d.hash }];
    add(spdxPackage({ SPDXID: id("download", d.name), name: d.name, downloadLocation: d.url, checksums, primaryPackagePurpose: "FILE" }), "DEPENDS_ON");
  }
  for (const p of s.parents) {
    const pkg = parentPackage(p, s.platform, id("parent", p.name));
    if (p.base) add(pkg, "DESCENDANT_OF");
    else add(pkg, "BUILD_DEPENDENCY_OF", true);
  }
  const extracted = [...refs]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([licenseId, name]) => ({ licenseId, name, extractedText: `Debian license short name "${name}": its text is in /usr/share/doc/<package>/copyright of each package that names it.` }));
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: `${s.ref} ${s.platform}`,
    documentNamespace: `urn:uuid:${derivedUuid(`spdx ${s.digest} ${s.platform} ${s.manifest}`)}`,
    creationInfo: { created: s.created, creators: [KILN_TOOL] },
    packages,
    relationships,
    ...(extracted.length ? { hasExtractedLicensingInfos: extracted } : {}),
  };
}

/** The document as bytes: keys sorted, two-space indent, final newline. */
export function spdxJson(s: SbomSubject): Buffer {
  return Buffer.from(stableStringify(spdxDocument(s)));
}
