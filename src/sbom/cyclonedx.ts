/**
 * CycloneDX 1.5 JSON from an SbomSubject, built with the CycloneDX library's
 * models and serializer (lists sorted: the same subject gives the same bytes).
 * The platform's image is the BOM's subject (metadata.component); its Debian
 * packages, git sources, downloads and parents are components it depends on.
 * Parents used only by build stages are in scope `excluded` (not in the image).
 */
import { Enums, Models, Serialize, Spec } from "@cyclonedx/cyclonedx-library";
import type { SbomSubject } from "./inventory.ts";
import { derivedUuid, KILN_VERSION, ociPurl, parentDigest } from "./identity.ts";

const { ComponentType, ComponentScope, ExternalReferenceType, HashAlgorithm } = Enums;

function property(name: string, value: string): Models.Property {
  return new Models.Property(name, value);
}

export function cyclonedxBom(s: SbomSubject): Models.Bom {
  const image = new Models.Component(ComponentType.Container, s.ref.split(":")[0]!, {
    bomRef: "image",
    version: s.manifest,
    purl: ociPurl(s.ref, s.manifest, s.platform),
    description: `${s.ref} ${s.platform}`,
    hashes: new Models.HashDictionary([[HashAlgorithm["SHA-256"], s.manifest.slice("sha256:".length)]]),
    properties: new Models.PropertyRepository([property("kiln:image", s.digest), property("kiln:platform", s.platform), property("kiln:ref", s.ref)]),
  });
  const components: Models.Component[] = [];
  for (const p of s.packages) {
    components.push(
      new Models.Component(ComponentType.Library, p.name, {
        bomRef: p.purl,
        version: p.version,
        purl: p.purl,
        publisher: "Debian",
        hashes: new Models.HashDictionary([[HashAlgorithm["SHA-256"], p.sha256]]),
        licenses: new Models.LicenseRepository(p.licenses ? [new Models.LicenseExpression(p.licenses.expression)] : []),
        externalReferences: new Models.ExternalReferenceRepository([new Models.ExternalReference(p.downloadLocation, ExternalReferenceType.Distribution)]),
        properties: new Models.PropertyRepository([property("kiln:debian:architecture", p.architecture)]),
      }),
    );
  }
  for (const g of s.git) {
    components.push(
      new Models.Component(ComponentType.File, g.name, {
        bomRef: `git:${g.name}`,
        version: g.commit,
        externalReferences: new Models.ExternalReferenceRepository([new Models.ExternalReference(g.url, ExternalReferenceType.VCS, { comment: `ref ${g.ref}` })]),
        properties: new Models.PropertyRepository([property("kiln:input", "git"), property("kiln:git:ref", g.ref), property("kiln:git:commit", g.commit)]),
      }),
    );
  }
  for (const d of s.downloads) {
    components.push(
      new Models.Component(ComponentType.File, d.name, {
        bomRef: `download:${d.name}`,
        hashes: new Models.HashDictionary([[d.algorithm === "sha256" ? HashAlgorithm["SHA-256"] : HashAlgorithm["SHA-512"], d.hash]]),
        externalReferences: new Models.ExternalReferenceRepository([new Models.ExternalReference(d.url, ExternalReferenceType.Distribution)]),
        properties: new Models.PropertyRepository([property("kiln:input", "download")]),
      }),
    );
  }
  for (const n of s.npm) {
    components.push(
      new Models.Component(ComponentType.Library, n.name, {
        bomRef: `npm:${n.input}:${n.path}`,
        version: n.version,
        purl: n.purl,
        hashes: new Models.HashDictionary([[HashAlgorithm["SHA-512"], n.sha512]]),
        externalReferences: new Models.ExternalReferenceRepository([new Models.ExternalReference(n.url, ExternalReferenceType.Distribution)]),
        properties: new Models.PropertyRepository([property("kiln:input", "npm"), property("kiln:npm:input", n.input), property("kiln:npm:path", n.path)]),
      }),
    );
  }
  for (const p of s.parents) {
    const digest = parentDigest(p);
    components.push(
      new Models.Component(ComponentType.Container, p.ref.split(":")[0]!, {
        bomRef: `parent:${p.name}`,
        version: digest,
        purl: ociPurl(p.ref, digest, p.base ? s.platform : undefined),
        hashes: new Models.HashDictionary([[HashAlgorithm["SHA-256"], digest.slice("sha256:".length)]]),
        ...(p.base ? {} : { scope: ComponentScope.Excluded }),
        properties: new Models.PropertyRepository([
          property("kiln:input", "parent"),
          property("kiln:parent:name", p.name),
          property("kiln:parent:ref", p.ref),
          property("kiln:parent:index", p.index),
          property("kiln:parent:use", p.base ? "base image" : "build stage"),
        ]),
      }),
    );
  }
  for (const c of components) image.dependencies.add(c.bomRef);
  const bom = new Models.Bom({
    serialNumber: `urn:uuid:${derivedUuid(`cyclonedx ${s.digest} ${s.platform} ${s.manifest}`)}`,
    metadata: new Models.Metadata({
      timestamp: new Date(s.created),
      component: image,
      tools: new Models.Tools({ components: new Models.ComponentRepository([new Models.Component(ComponentType.Application, "kiln", { version: KILN_VERSION })]) }),
    }),
    components: new Models.ComponentRepository(components),
  });
  return bom;
}

/** The BOM as bytes: the library's JSON for spec 1.5, lists sorted, two-space indent, final newline. */
export function cyclonedxJson(s: SbomSubject): Buffer {
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot5));
  return Buffer.from(serializer.serialize(cyclonedxBom(s), { sortLists: true, space: 2 }) + "\n");
}
