/** Temporary catalogs for catalog tests: `images/<name>/image.ts` plus context files. */
import fs from "node:fs/promises";
import path from "node:path";
import { tempDir } from "../../support/temp-dir.ts";

export interface FixtureImage {
  /** Definition fields besides `name` (category and description get defaults). */
  def?: Record<string, unknown>;
  /** Files in the image folder, relative path -> content. */
  files?: Record<string, string>;
}

export async function writeCatalog(images: Record<string, FixtureImage>, root?: string): Promise<string> {
  const dir = root ?? (await tempDir("kiln-catalog-"));
  for (const [name, img] of Object.entries(images)) {
    const imageDir = path.join(dir, "images", name);
    await fs.mkdir(imageDir, { recursive: true });
    const def = { name, category: "base", description: `the ${name} image`, ...img.def };
    await fs.writeFile(path.join(imageDir, "image.ts"), `export default ${JSON.stringify(def, null, 2)};\n`);
    const files = { Dockerfile: "FROM scratch\n", ...img.files };
    for (const [rel, content] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(imageDir, rel)), { recursive: true });
      await fs.writeFile(path.join(imageDir, rel), content);
    }
  }
  return dir;
}
