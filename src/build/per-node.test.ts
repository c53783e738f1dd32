import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { hashBytes } from "../util/cas.ts";
import { indexBytes, mergeLayouts } from "./per-node.ts";

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
// A router index BuildKit's OCI exporter wrote for a two-platform build, and its two manifests.
const AMD64 = { mediaType: MANIFEST, digest: "sha256:76b227fea28dca82d6383ccee8168b1a677c6b4ae1d5388240643c289309a446", size: 1118 };
const ARM64 = { mediaType: MANIFEST, digest: "sha256:4f6c044ba3e39eccd5fa4ca35cedeb155e43224c996624c0f059d0843757dcc7", size: 1118 };
const ROUTER_INDEX = "6d73f06dc08ad3e11e71813b301a00ec2bb610a0f5dc8e6fae2374c67d72e238";

describe("an index assembled from per-platform builds", () => {
  it("has the bytes BuildKit writes for the same manifests, so the same digest", () => {
    const bytes = indexBytes([
      { platform: "linux/amd64", descriptor: AMD64 },
      { platform: "linux/arm64", descriptor: ARM64 },
    ]);
    expect(hashBytes(bytes)).toBe(ROUTER_INDEX);
  });

  it("joins single-platform layouts into one whose image is that index", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-per-node-"));
    const parts = [];
    for (const [platform, d] of [["linux/amd64", AMD64], ["linux/arm64", ARM64]] as const) {
      const dir = path.join(root, platform.replace("/", "-"));
      await fs.mkdir(path.join(dir, "blobs", "sha256"), { recursive: true });
      await fs.writeFile(path.join(dir, "blobs", "sha256", d.digest.slice(7)), `manifest ${platform}`);
      await fs.writeFile(path.join(dir, "blobs", "sha256", "c0ffee"), "a layer both share");
      await fs.writeFile(path.join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ ...d, annotations: { "org.opencontainers.image.created": "x" } }] }));
      parts.push({ platform, dir });
    }
    const dest = path.join(root, "merged");
    const digest = await mergeLayouts(parts, dest);
    expect(digest).toBe(`sha256:${ROUTER_INDEX}`);
    expect(JSON.parse(await fs.readFile(path.join(dest, "index.json"), "utf8")).manifests).toEqual([{ mediaType: "application/vnd.oci.image.index.v1+json", digest, size: expect.any(Number) }]);
    expect((await fs.readdir(path.join(dest, "blobs", "sha256"))).sort()).toEqual([ARM64.digest.slice(7), AMD64.digest.slice(7), ROUTER_INDEX, "c0ffee"].sort());
    await fs.rm(root, { recursive: true });
  });
});
