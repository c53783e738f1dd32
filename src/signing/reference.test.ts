import { describe, expect, it } from "vitest";
import { KilnError } from "../errors.ts";
import { byDigest, formatPushedRef, parsePushedRef, signatureTag } from "./reference.ts";

const D = `sha256:${"ab".repeat(32)}`;

function errorOf(ref: string): string {
  try {
    parsePushedRef(ref);
  } catch (e) {
    expect(e).toBeInstanceOf(KilnError);
    return (e as KilnError).toLine();
  }
  throw new Error(`expected ${ref} to be refused`);
}

describe("parsePushedRef", () => {
  it("reads registry, repository, tag and digest", () => {
    expect(parsePushedRef("127.0.0.1:5000/kiln/router:latest")).toEqual({ repository: "127.0.0.1:5000/kiln/router", host: "127.0.0.1:5000", tag: "latest" });
    expect(parsePushedRef(`registry.lan/a/b@${D}`)).toEqual({ repository: "registry.lan/a/b", host: "registry.lan", digest: D });
    expect(parsePushedRef(`localhost/x:1@${D}`)).toEqual({ repository: "localhost/x", host: "localhost", tag: "1", digest: D });
    expect(parsePushedRef("registry:5000/x:v1.2")).toMatchObject({ host: "registry:5000", tag: "v1.2" });
  });

  it("refuses catalog refs, missing tags, bad digests and bad names with one line saying what to write", () => {
    expect(errorOf("router:image")).toBe(
      "router:image is not a pushed image reference: it names no registry; push it first (kiln build IMAGE --push) and name it as pushed, e.g. 127.0.0.1:5000/kiln/router:latest or 127.0.0.1:5000/kiln/router@sha256:...",
    );
    expect(errorOf("kiln/router:1")).toMatch(/it names no registry/);
    expect(errorOf("127.0.0.1:5000/kiln/router")).toMatch(/it names no tag or digest; add :TAG or @sha256:/);
    expect(errorOf("127.0.0.1:5000/kiln/router@sha256:abc")).toMatch(/sha256:abc is not a sha256 digest/);
    expect(errorOf("127.0.0.1:5000/Kiln/router:1")).toMatch(/Kiln\/router is not a repository name/);
    expect(errorOf("127.0.0.1:5000/kiln:bad tag")).toMatch(/bad tag is not a tag/);
  });
});

describe("digest references", () => {
  it("signs by digest only and knows cosign's signature tag", () => {
    const tagged = parsePushedRef("127.0.0.1:5000/kiln/router:latest");
    expect(byDigest(tagged, D)).toBe(`127.0.0.1:5000/kiln/router@${D}`);
    expect(formatPushedRef(tagged)).toBe("127.0.0.1:5000/kiln/router:latest");
    expect(formatPushedRef(parsePushedRef(`127.0.0.1:5000/kiln/router:1@${D}`))).toBe(`127.0.0.1:5000/kiln/router@${D}`);
    expect(signatureTag(tagged, D)).toBe(`127.0.0.1:5000/kiln/router:sha256-${"ab".repeat(32)}.sig`);
  });
});
