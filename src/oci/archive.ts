/** An OCI layout folder as a tar archive (what `docker load` and `oci-archive:` read), deterministic order and times. */
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { pack } from "tar-stream";

export async function streamLayoutArchive(layout: string, dest: NodeJS.WritableStream): Promise<void> {
  const archive = pack();
  const adding = async () => {
    for (const rel of await listFiles(layout)) {
      const file = path.join(layout, rel);
      const { size } = await fs.stat(file);
      await pipeline(createReadStream(file), archive.entry({ name: rel, size, mode: 0o644, mtime: new Date(0) }));
    }
    archive.finalize();
  };
  // Both at once: a reader that goes away early fails the whole at once, never as an unhandled rejection.
  await Promise.all([pipeline(archive, dest), adding()]);
}

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}
