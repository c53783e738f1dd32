/** The README's image table is generated from the catalog; this fails when someone forgot to regenerate it. */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { listCatalog, markdownTable, withImageTable } from "../../../src/catalog/listing.ts";
import { loadCatalog } from "../../../src/definition/catalog.ts";
import { REPO_ROOT } from "../../../src/paths.ts";

describe("README image table", () => {
  it("matches the catalog (run `npm run readme:images` to regenerate it)", async () => {
    const file = path.join(REPO_ROOT, "README.md");
    const readme = await fs.readFile(file, "utf8");
    const expected = withImageTable(readme, markdownTable(listCatalog(await loadCatalog(REPO_ROOT))));
    expect(readme, "README.md's image table is out of date: run `npm run readme:images`").toBe(expected);
  });
});
