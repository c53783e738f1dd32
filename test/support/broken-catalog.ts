/**
 * The broken fixture catalog (test/fixtures/broken) made buildable: copied to
 * a temp folder, a static busybox dropped into every image folder, committed
 * to a fresh git repository so builds get their git labels.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { mustRun, REPO } from "../e2e/helpers.ts";
import { staticBusybox } from "./busybox.ts";

/** `also`: more fixture catalogs (folders under test/fixtures) merged into the copy, e.g. "faults". */
export async function brokenCatalog(dest: string, extra: Record<string, string> = {}, also: string[] = []): Promise<string> {
  for (const fixtures of ["broken", ...also]) await fs.cp(path.join(REPO, "test/fixtures", fixtures), dest, { recursive: true });
  for (const [rel, content] of Object.entries(extra)) {
    await fs.mkdir(path.dirname(path.join(dest, rel)), { recursive: true });
    await fs.writeFile(path.join(dest, rel), content);
  }
  const busybox = await staticBusybox();
  for (const name of await fs.readdir(path.join(dest, "images"))) await fs.copyFile(busybox, path.join(dest, "images", name, "busybox"));
  const git = (...args: string[]) => mustRun("git", ["-C", dest, "-c", "user.email=kiln@example.invalid", "-c", "user.name=kiln", ...args]);
  await git("init", "-q");
  await git("add", "-A");
  await git("commit", "-q", "-m", "fixtures");
  return dest;
}
