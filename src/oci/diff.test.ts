import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeLayout, type FixtureFile } from "../../test/support/oci-layout.ts";
import { OciStore } from "./store.ts";
import { diffEntries, diffImages, firstDifferingLines, formatDiff, type ImageSide } from "./diff.ts";
import { readLayer, squash, type LayerEntry } from "./layers.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-diff-"));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const base: FixtureFile[] = [
  { path: "etc/", type: "directory" },
  { path: "etc/app.conf", content: "a=1\nb=2\nc=3\n" },
  { path: "usr/bin/tool", content: "#!/bin/sh\necho hi\n", mode: 0o644 },
  { path: "usr/bin/link", type: "symlink", linkname: "tool" },
];

async function side(name: string, files: FixtureFile[][], config?: Record<string, unknown>, layerAnnotations?: (Record<string, string> | undefined)[]): Promise<ImageSide> {
  const dir = path.join(tmp, name);
  const { index } = await writeLayout(dir, { layers: files, ...(config ? { config } : {}), layerAnnotations });
  const store = await OciStore.open(dir);
  return { label: name, image: await store.require(index), openBlob: (b) => store.openBlob(b), verifyBlob: (b) => store.verifyBlob(b), readJson: (b) => store.readJson(b) };
}

describe("diffImages", () => {
  it("reports exactly one content and one mode difference", async () => {
    const a = await side("a", [[{ path: "lib/", type: "directory" }], base]);
    const changed = base.map((f) =>
      f.path === "etc/app.conf" ? { ...f, content: "a=1\nb=20\nc=3\n" } : f.path === "usr/bin/tool" ? { ...f, mode: 0o755 } : f,
    );
    const b = await side("b", [[{ path: "lib/", type: "directory" }], changed]);
    const d = await diffImages(a, b);
    expect(d.identical).toBe(false);
    expect(d.differences.map((x) => [x.scope, x.subject, x.kind, x.a, x.b])).toEqual([
      ["linux/amd64 layer 1", "etc/app.conf", "content", expect.stringMatching(/\(12 bytes\)$/), expect.stringMatching(/\(13 bytes\)$/)],
      ["linux/amd64 layer 1", "usr/bin/tool", "mode", "0644", "0755"],
    ]);
    expect(d.differences[0]!.lines).toEqual(["@@ line 2", "- b=2", "- c=3", "+ b=20", "+ c=3"]);
    const text = formatDiff(d, { a: "a", b: "b" });
    expect(text).toContain("etc/app.conf: content");
    expect(text).toContain("usr/bin/tool: mode 0644 -> 0755");
    expect(text).toMatch(/2 differences\n$/);
  });

  it("reports a layer described differently though its bytes are the same (an annotation only one engine writes)", async () => {
    const a = await side("plain", [base, [{ path: "app", content: "x" }]]);
    const b = await side("marked", [base, [{ path: "app", content: "x" }]], undefined, [{ "buildkit/rewritten-timestamp": "1796356468" }]);
    const d = await diffImages(a, b);
    expect(d.identical).toBe(false);
    expect(d.differences.map((x) => [x.scope, x.subject, x.kind, x.a, x.b])).toEqual([
      ["linux/amd64 layer 0", "descriptor annotations[buildkit/rewritten-timestamp]", "added", "(none)", "1796356468"],
    ]);
  });

  it("says identical for the same image", async () => {
    const a = await side("same", [base]);
    const d = await diffImages(a, a);
    expect(d).toMatchObject({ identical: true, differences: [] });
    expect(formatDiff(d, { a: "x", b: "y" })).toBe("identical: x and y\n");
  });

  it("reports config fields, added and removed files, owners, mtimes and links", async () => {
    const a = await side("c1", [base], { User: "2000", Env: ["PATH=/bin", "A=1"], Labels: { x: "1" } });
    const b = await side(
      "c2",
      [
        [
          ...base.filter((f) => f.path !== "etc/app.conf").map((f) => (f.path === "usr/bin/link" ? { ...f, linkname: "other" } : f.path === "etc/" ? { ...f, uid: 5 } : f)),
          { path: "new.txt", content: "x", mtime: 1 },
        ],
      ],
      { User: "0", Env: ["PATH=/bin"], Labels: { x: "2", y: "3" } },
    );
    const d = await diffImages(a, b);
    const got = d.differences.map((x) => `${x.scope}|${x.subject}|${x.kind}`);
    expect(got).toEqual([
      "linux/amd64 config|Env[A]|removed",
      "linux/amd64 config|User|changed",
      "linux/amd64 config|Labels[x]|changed",
      "linux/amd64 config|Labels[y]|added",
      "linux/amd64 layer 0|etc|owner",
      "linux/amd64 layer 0|etc/app.conf|removed",
      "linux/amd64 layer 0|new.txt|added",
      "linux/amd64 layer 0|usr/bin/link|link",
    ]);
  });

  it("limits to the asked platforms", async () => {
    const a = await side("p1", [base]);
    const b = await side("p2", [[...base, { path: "x", content: "1" }]]);
    expect((await diffImages(a, b, { platforms: ["linux/arm64"] })).identical).toBe(true);
  });
});

describe("layers", () => {
  it("squashes whiteouts and keeps setuid bits", async () => {
    const dir = path.join(tmp, "sq");
    await writeLayout(dir, {
      layers: [
        [{ path: "a/", type: "directory" }, { path: "a/one", content: "1" }, { path: "a/two", content: "2" }, { path: "bin/su", content: "x", mode: 0o4755 }],
        [{ path: "a/.wh.one", content: "" }, { path: "a/three", content: "3" }],
        [{ path: "a/.wh..wh..opq", content: "" }, { path: "a/four", content: "4" }],
      ],
    });
    const store = await OciStore.open(dir);
    const img = await store.require((await store.index()).manifests[0]!.digest);
    const m = await store.readJson<{ layers: { digest: string; size: number; mediaType: string }[] }>(img.manifests["linux/amd64"]!.digest);
    const layers = await Promise.all(m.layers.map((l) => readLayer(store, l)));
    expect([...squash(layers).keys()].sort()).toEqual(["a", "a/four", "bin/su"]);
    expect(squash(layers).get("bin/su")!.mode).toBe(0o4755);
    // A reader after one file's bytes: no hashes, no other content, the same entries.
    const fast = await readLayer(store, m.layers[0]!, { hashFiles: false, keepContentOf: (p) => p === "a/two" });
    expect(fast.map((e) => e.path)).toEqual(layers[0]!.map((e) => e.path));
    expect(fast.filter((e) => e.sha256 !== undefined || e.content !== undefined).map((e) => [e.path, e.content?.toString()])).toEqual([["a/two", "2"]]);
  });

  it("a file or link replacing a folder hides what was below it, also below a folder never listed itself", () => {
    const e = (p: string, type: LayerEntry["type"] = "file"): LayerEntry => ({ path: p, type, mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0 });
    const layers = [
      [e("d", "dir"), e("d/x"), e("d/sub", "dir"), e("d/sub/y"), e("implicit/z"), e("f")],
      [e("d", "symlink"), e("implicit"), e("f")],
    ];
    expect([...squash(layers).keys()].sort()).toEqual(["d", "f", "implicit"]);
  });

  it("finds the first differing lines only for text", () => {
    expect(firstDifferingLines(Buffer.from("x\ny"), Buffer.from("x\nz"), 1)).toEqual(["@@ line 2", "- y", "+ z"]);
    expect(firstDifferingLines(Buffer.from([0, 1]), Buffer.from([0, 2]))).toBeUndefined();
  });

  it("reports an order-only change", () => {
    const e = (p: string) => ({ path: p, type: "file" as const, mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0, sha256: "x" });
    expect(diffEntries("s", [e("a"), e("b")], [e("b"), e("a")])).toEqual([{ scope: "s", subject: "(archive)", kind: "order", a: "entries in a different order", b: "" }]);
  });
});
