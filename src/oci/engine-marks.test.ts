import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeLayout } from "../../test/support/oci-layout.ts";
import { removeEngineMarks, unmarkedManifest } from "./engine-marks.ts";
import { OciStore, type OciIndex, type OciManifest } from "./store.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-marks-"));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const MARK = { "buildkit/rewritten-timestamp": "1796356468" };
const layers = [[{ path: "etc/os-release", content: "ID=debian\n" }], [{ path: "app", content: "x" }]];

async function layout(name: string, layerAnnotations?: (Record<string, string> | undefined)[]): Promise<{ dir: string; index: string }> {
  const dir = path.join(tmp, name);
  const { index } = await writeLayout(dir, { layers, layerAnnotations });
  // An engine's export: index.json names the image index itself.
  await fs.writeFile(path.join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: index, size: (await fs.stat(path.join(dir, "blobs/sha256", index.slice(7)))).size }] }));
  return { dir, index };
}

const topOf = async (dir: string) => (JSON.parse(await fs.readFile(path.join(dir, "index.json"), "utf8")) as OciIndex).manifests[0]!;

describe("engine marks", () => {
  it("the same image marked by one engine on every layer and by the other on its own layer only: one digest once both are unmarked", async () => {
    const older = await layout("older", [MARK, MARK]);
    const newer = await layout("newer", [undefined, MARK]);
    expect(older.index).not.toBe(newer.index);
    await removeEngineMarks(older.dir);
    await removeEngineMarks(newer.dir);
    const [a, b] = [await topOf(older.dir), await topOf(newer.dir)];
    expect(a.digest).toBe(b.digest);
    // The store takes it as any export; the marked manifests are gone from the layout.
    const store = await OciStore.open(path.join(tmp, "store"));
    const stored = await store.importLayout(older.dir, "app:image");
    expect(stored.digest).toBe(a.digest);
    const manifest = await store.readJson<OciManifest>(stored.manifests["linux/amd64"]!.digest);
    expect(manifest.layers.map((l) => l.annotations)).toEqual([undefined, undefined]);
    expect((await fs.readdir(path.join(older.dir, "blobs/sha256"))).sort()).toEqual((await fs.readdir(path.join(newer.dir, "blobs/sha256"))).sort());
  });

  it("leaves an export without marks byte for byte as it is", async () => {
    const plain = await layout("plain");
    const before = await fs.readFile(path.join(plain.dir, "index.json"));
    await removeEngineMarks(plain.dir);
    expect(await fs.readFile(path.join(plain.dir, "index.json"))).toEqual(before);
    expect((await topOf(plain.dir)).digest).toBe(plain.index);
  });

  it("keeps a layer's other annotations", () => {
    const m: OciManifest = {
      schemaVersion: 2,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${"c".repeat(64)}`, size: 1 },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${"a".repeat(64)}`, size: 1, annotations: { ...MARK, "org.example.keep": "yes" } }],
    };
    expect(unmarkedManifest(m)?.layers[0]!.annotations).toEqual({ "org.example.keep": "yes" });
    expect(unmarkedManifest(unmarkedManifest(m)!)).toBeUndefined();
  });
});
