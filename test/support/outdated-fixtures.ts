/** Small Packages indices (test/fixtures/debian/outdated) served as the current indices, counting every read. */
import fs from "node:fs/promises";
import path from "node:path";
import { parsePackagesIndex } from "../../src/debian/indices.ts";
import type { IndexSource } from "../../src/debian/updates.ts";
import type { LockedDeb } from "../../src/lock/schema.ts";

const DIR = path.resolve(import.meta.dirname, "../fixtures/debian/outdated");

export const FIXTURE_DATE = "Fri, 04 Dec 2026 03:54:28 UTC";

export function fixtureIndexSource(): IndexSource & { verified: string[]; read: string[] } {
  const verified: string[] = [];
  const read: string[] = [];
  return {
    verified,
    read,
    async verify(source) {
      verified.push(source.suite);
      return {
        date: FIXTURE_DATE,
        read: async (arch) => {
          read.push(`${source.suite}/${arch}`);
          return parsePackagesIndex(await fs.readFile(path.join(DIR, `${source.suite}-${arch}.Packages`), "utf8"), source);
        },
      };
    },
  };
}

/** A locked package as the lock holds it (pool path, size and hash do not matter to the comparison). */
export function deb(name: string, version: string, architecture: string): LockedDeb {
  return { name, version, architecture, archive: "debian", path: `pool/main/${name[0]}/${name}/${name}.deb`, size: 1000, sha256: "0".repeat(64) };
}
