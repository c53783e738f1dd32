import { describe, expect, it } from "vitest";
import type { LoadedImage } from "../definition/catalog.ts";
import { definitionSchema } from "../definition/schema.ts";
import { debianSourceProblems } from "./debian-source.ts";
import type { DebianSourceLock } from "./schema.ts";

const image = (source: Record<string, unknown>) => {
  const def = definitionSchema.parse({ name: "app", category: "experimental", description: "x", platforms: ["linux/amd64", "linux/arm64"], inputs: { debianSource: { hello: source } } });
  return { name: "app", dir: "/x", file: "/x/image.ts", def } as LoadedImage;
};
const pin: DebianSourceLock = {
  package: "hello",
  version: "2.10-3",
  suite: "bookworm",
  snapshot: "20261129T000000Z",
  archive: "debian",
  directory: "pool/main/h/hello",
  files: [{ name: "hello_2.10-3.dsc", size: 1, sha256: "0".repeat(64) }],
  request: { profiles: ["nocheck"], onTopOf: "base-builder" },
  buildDepends: { amd64: { amd64: [], arm64: [] } },
};
const problems = (source: Record<string, unknown>, p = pin) => {
  const img = image(source);
  return debianSourceProblems(img, "hello", img.def.inputs.debianSource.hello!, p).map((x) => `${x.state}: ${x.message}`);
};

describe("Debian source pins against their declaration", () => {
  const decl = { package: "hello", profiles: ["nocheck"], onTopOf: "base-builder" };
  it("accepts a pin that fits", () => expect(problems(decl)).toEqual([]));
  it("calls another package, version or request stale", () => {
    expect(problems({ ...decl, package: "shairport-sync" })).toEqual(["stale: Debian source hello: shairport-sync (bookworm) declared, hello (bookworm) locked"]);
    expect(problems({ ...decl, version: "2.10-2" })).toEqual(["stale: Debian source hello: version 2.10-2 declared, 2.10-3 locked"]);
    expect(problems({ ...decl, profiles: [] })).toEqual(["stale: Debian source hello: the request (version, profiles, onTopOf, buildDependsFor) changed since the lock was made"]);
  });
  it("calls a pin resolved per target stale once the build-dependencies serve every target, and back", () => {
    const stale = ["stale: Debian source hello: the request (version, profiles, onTopOf, buildDependsFor) changed since the lock was made"];
    expect(problems({ ...decl, buildDependsFor: "build" })).toEqual(stale);
    const forBuild = { ...pin, request: { ...pin.request, buildDependsFor: "build" as const } };
    expect(problems({ ...decl, buildDependsFor: "build" }, forBuild)).toEqual([]);
    expect(problems(decl, forBuild)).toEqual(stale);
  });
  it("calls a target architecture without build-dependencies unpinned", () => {
    expect(problems(decl, { ...pin, buildDepends: { amd64: { amd64: [] } } })).toEqual(["unpinned: Debian source hello: build-dependencies not locked for amd64->arm64"]);
  });
});
