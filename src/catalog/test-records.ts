/**
 * What `kiln test` found for one image digest, per platform: passed or not,
 * how many checks, which failed, when, and whether containers ran or only the
 * static policy was checked. Kept in the catalog state (`tests/<digest>.json`);
 * testing some platforms again replaces just those platforms' results.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { CheckResult } from "../checks/results.ts";
import { writeAtomic } from "../oci/store.ts";
import type { CatalogState } from "./state.ts";

export interface PlatformTest {
  ok: boolean;
  checks: number;
  /** `rule` or `rule (name)` of each failed check. */
  failed: string[];
  testedAt: string;
  /** Only the static policy ran (`--static-only`). */
  staticOnly: boolean;
}

export interface TestRecord {
  ref: string;
  digest: string;
  platforms: Record<string, PlatformTest>;
}

function testFile(state: CatalogState, digest: string): string {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`not an image digest: ${digest}`);
  return path.join(state.dir, "tests", digest.replace(":", "-") + ".json");
}

/** The per-platform summary of a run's results (subjects are `ref platform`). */
export function summarizeTest(results: CheckResult[], staticOnly: boolean, now: Date): Record<string, PlatformTest> {
  const out: Record<string, PlatformTest> = {};
  for (const r of results) {
    const platform = r.subject.split(" ")[1] ?? "unknown";
    const p = (out[platform] ??= { ok: true, checks: 0, failed: [], testedAt: now.toISOString(), staticOnly });
    p.checks++;
    if (!r.ok) {
      p.ok = false;
      p.failed.push(r.name === r.rule ? r.rule : `${r.rule} (${r.name})`);
    }
  }
  return out;
}

export async function loadTestRecord(state: CatalogState, digest: string): Promise<TestRecord | undefined> {
  const text = await fs.readFile(testFile(state, digest), "utf8").catch(() => undefined);
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as TestRecord;
    return r && typeof r.platforms === "object" ? r : undefined;
  } catch {
    return undefined;
  }
}

export async function recordTest(state: CatalogState, ref: string, digest: string, platforms: Record<string, PlatformTest>): Promise<TestRecord> {
  const before = await loadTestRecord(state, digest);
  const merged = { ...(before?.platforms ?? {}), ...platforms };
  const record: TestRecord = { ref, digest, platforms: Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b))) };
  const file = testFile(state, digest);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeAtomic(file, JSON.stringify(record, null, 1) + "\n");
  return record;
}
