import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import tar from "tar-stream";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/temp-dir.ts";
import { streamLayoutArchive } from "./archive.ts";

async function layout(): Promise<string> {
  const dir = await tempDir("kiln-archive-");
  await fs.mkdir(path.join(dir, "blobs", "sha256"), { recursive: true });
  await fs.writeFile(path.join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  await fs.writeFile(path.join(dir, "index.json"), "{}");
  await fs.writeFile(path.join(dir, "blobs", "sha256", "big"), Buffer.alloc(8 << 20, 1));
  return dir;
}

describe("streamLayoutArchive", () => {
  it("writes every file of the layout, sorted, with fixed metadata", async () => {
    const out = new PassThrough();
    const extract = tar.extract();
    const names: string[] = [];
    extract.on("entry", (h, stream, next) => {
      names.push(`${h.name} ${h.mode?.toString(8)} ${h.mtime?.getTime()}`);
      stream.resume();
      stream.on("end", next);
    });
    const done = new Promise<void>((resolve) => extract.on("finish", () => resolve()));
    out.pipe(extract);
    await streamLayoutArchive(await layout(), out);
    await done;
    expect(names).toEqual(["blobs/sha256/big 644 0", "index.json 644 0", "oci-layout 644 0"]);
  });

  it("fails, without an unhandled error, when the reader exits before reading", async () => {
    const child = spawn("true", [], { stdio: ["pipe", "ignore", "ignore"] });
    await expect(streamLayoutArchive(await layout(), child.stdin)).rejects.toThrow();
  });
});
