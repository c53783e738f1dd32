/**
 * kiln's own bookkeeping beside the store (`<store>/../kiln-state/`):
 * input manifests, addressed by their hash (the value of the store entry's
 * `dev.kiln.inputs.sha256` annotation), so that a later `kiln status` can
 * tell which input changed; measured layer sizes, addressed by layer
 * digest; and the verdicts of `kiln verify`, addressed by image digest.
 * Everything here can be deleted: it is only a record and a cache.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { writeAtomic } from "../oci/store.ts";
import { stableStringify } from "../lock/schema.ts";
import type { InputManifest } from "./inputs.ts";
import { manifestHash } from "./inputs.ts";

export function stateDirOf(storeDir: string): string {
  return path.join(path.dirname(path.resolve(storeDir)), "kiln-state");
}

/** What `kiln verify` found for one image digest: two clean builds gave it both times, or not. */
export interface Verdict {
  reproducible: boolean;
  /** The catalog ref that was verified. */
  ref: string;
  verifiedAt: string;
}

export class CatalogState {
  constructor(readonly dir: string) {}

  static forStore(storeDir: string): CatalogState {
    return new CatalogState(stateDirOf(storeDir));
  }

  /** Writes the manifest (once per distinct content) and returns its hash. */
  async saveInputs(m: InputManifest): Promise<string> {
    const hash = manifestHash(m);
    const file = path.join(this.dir, "inputs", `${hash}.json`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    // Private: it holds (keyed) digests of the secrets the build mounted.
    await fs.access(file).catch(() => writeAtomic(file, stableStringify(m), { mode: 0o600 }));
    return hash;
  }

  async loadInputs(hash: string): Promise<InputManifest | undefined> {
    if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
    const text = await fs.readFile(path.join(this.dir, "inputs", `${hash}.json`), "utf8").catch(() => undefined);
    return text ? (JSON.parse(text) as InputManifest) : undefined;
  }

  /** Uncompressed size of a layer by its digest (layers never change, so neither does the answer). */
  async layerSize(digest: string, measure: () => Promise<number>): Promise<number> {
    const file = path.join(this.dir, "layer-sizes", digest.replace(":", "-"));
    const known = await fs.readFile(file, "utf8").catch(() => undefined);
    if (known !== undefined && /^\d+$/.test(known.trim())) return Number(known.trim());
    const size = await measure();
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeAtomic(file, `${size}\n`);
    return size;
  }

  /** Records a verdict for an image digest (a later verdict for the same digest replaces it). */
  async saveVerdict(digest: string, verdict: Verdict): Promise<void> {
    const file = this.verdictFile(digest);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeAtomic(file, JSON.stringify(verdict) + "\n");
  }

  async loadVerdict(digest: string): Promise<Verdict | undefined> {
    const text = await fs.readFile(this.verdictFile(digest), "utf8").catch(() => undefined);
    if (!text) return undefined;
    try {
      const v = JSON.parse(text) as Verdict;
      return typeof v.reproducible === "boolean" ? v : undefined;
    } catch {
      return undefined; // a damaged record is no verdict
    }
  }

  private verdictFile(digest: string): string {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`not an image digest: ${digest}`);
    return path.join(this.dir, "verdicts", digest.replace(":", "-") + ".json");
  }
}
