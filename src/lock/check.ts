/**
 * Is the lock complete and current for the definition? Lists every declared
 * input without a pin, every pin for an input no longer declared, every pin
 * whose declaration changed (URL, ref, package set), and, when a store is
 * given, every parent whose locked digest is no longer what the store holds.
 */
import type { LoadedImage } from "../definition/catalog.ts";
import { KilnError } from "../errors.ts";
import type { OciStore } from "../oci/store.ts";
import { debianArchitectures, declaredDownloads, imagePlatforms, type InputKind } from "./declared.ts";
import { debianSourceProblems } from "./debian-source.ts";
import { npmProblem } from "./npm.ts";
import { storeRefOf } from "./resolve.ts";
import { type Lock, stableStringify } from "./schema.ts";
import { normalizeFingerprint } from "./signature.ts";

export interface LockProblem {
  kind: InputKind;
  name: string;
  /** `unpinned`: declared, not locked; `stale`: locked for another declaration or world; `extra`: locked, not declared. */
  state: "unpinned" | "stale" | "extra";
  message: string;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export async function checkLock(image: LoadedImage, lock: Lock | undefined, opts: { store?: OciStore } = {}): Promise<LockProblem[]> {
  const problems: LockProblem[] = [];
  const add = (kind: InputKind, name: string, state: LockProblem["state"], message: string) => problems.push({ kind, name, state, message });
  const { def } = image;

  // Debian packages
  const deb = def.inputs.debian;
  if (deb && !lock?.debian) add("debian", "packages", "unpinned", "Debian packages are declared but not locked");
  else if (!deb && lock?.debian) add("debian", "packages", "extra", "Debian packages are locked but no longer declared");
  else if (deb && lock?.debian) {
    const l = lock.debian;
    const wanted = { set: deb.set, packages: [...deb.packages].sort(), foreign: [...deb.foreignArchitectures].sort() };
    const sameFromSuites = stableStringify(l.request.fromSuites ?? {}) === stableStringify(deb.fromSuites);
    if (l.suite !== deb.suite) add("debian", "packages", "stale", `Debian suite ${deb.suite} declared, ${l.suite} locked`);
    if (l.request.set !== wanted.set || l.request.onTopOf !== deb.onTopOf || !sameList([...l.request.packages].sort(), wanted.packages) || !sameList([...l.request.foreignArchitectures].sort(), wanted.foreign) || !sameFromSuites) {
      add("debian", "packages", "stale", "the Debian package request changed since the lock was made");
    }
    const missing = debianArchitectures(imagePlatforms(def)).filter((a) => !l.packages[a]?.length);
    if (missing.length) add("debian", "packages", "unpinned", `Debian packages not locked for ${missing.join(", ")}`);
  }

  // git sources
  for (const [name, g] of Object.entries(def.inputs.git)) {
    const l = lock?.git?.[name];
    if (!l) add("git", name, "unpinned", `git source ${name} (${g.url} ${g.ref}) is not pinned`);
    else if (l.url !== g.url || l.ref !== g.ref) add("git", name, "stale", `git source ${name}: ${g.url} ${g.ref} declared, ${l.url} ${l.ref} locked`);
  }
  for (const name of Object.keys(lock?.git ?? {})) if (!(name in def.inputs.git)) add("git", name, "extra", `git source ${name} is locked but no longer declared`);

  // downloads
  const downloads = declaredDownloads(image);
  for (const [name, d] of Object.entries(downloads)) {
    const l = lock?.downloads?.[name];
    if (!l) {
      add("url", name, "unpinned", `download ${name} is not pinned`);
      continue;
    }
    for (const [key, url] of Object.entries(d.urls)) {
      const pin = l[key];
      if (!pin) add("url", name, "unpinned", `download ${name} (${key}) is not pinned`);
      else if (pin.url !== url) add("url", name, "stale", `download ${name} (${key}): ${url} declared, ${pin.url} locked`);
      else if (!pin[d.algorithm]) add("url", name, "stale", `download ${name} (${key}) has no ${d.algorithm} in the lock`);
      else if (d.signature && pin.signature?.fingerprint !== normalizeFingerprint(d.signature.fingerprint)) {
        add("url", name, "stale", `download ${name} (${key}): signature by ${normalizeFingerprint(d.signature.fingerprint)} declared, ${pin.signature ? pin.signature.fingerprint : "none"} locked`);
      } else if (!d.signature && pin.signature) add("url", name, "stale", `download ${name} (${key}) has a signature in the lock the definition no longer asks for`);
    }
    for (const key of Object.keys(l)) if (!(key in d.urls)) add("url", name, "extra", `download ${name} (${key}) is locked but no longer declared`);
  }
  for (const name of Object.keys(lock?.downloads ?? {})) if (!(name in downloads)) add("url", name, "extra", `download ${name} is locked but no longer declared`);

  // parent images
  for (const [name, ref] of Object.entries(def.parents)) {
    const l = lock?.parents?.[name];
    if (!l) add("image", name, "unpinned", `parent ${name} (${ref}) is not pinned`);
    else if (l.ref !== ref) add("image", name, "stale", `parent ${name}: ${ref} declared, ${l.ref} locked`);
    else if (opts.store) {
      const current = await opts.store.resolve(await storeRefOf(ref, image));
      if (current && current.digest !== l.index) add("image", name, "stale", `parent ${name} (${ref}): locked ${l.index}, the store now holds ${current.digest}`);
    }
  }
  for (const name of Object.keys(lock?.parents ?? {})) if (!(name in def.parents)) add("image", name, "extra", `parent ${name} is locked but no longer declared`);

  // Debian source packages
  for (const [name, s] of Object.entries(def.inputs.debianSource)) {
    const l = lock?.debianSource?.[name];
    if (!l) add("source", name, "unpinned", `Debian source ${name} (${s.package}) is not pinned`);
    else for (const p of debianSourceProblems(image, name, s, l)) add("source", name, p.state, p.message);
  }
  for (const name of Object.keys(lock?.debianSource ?? {})) if (!(name in def.inputs.debianSource)) add("source", name, "extra", `Debian source ${name} is locked but no longer declared`);

  // npm programs
  for (const [name, n] of Object.entries(def.inputs.npm)) {
    const l = lock?.npm?.[name];
    const stale = l && (await npmProblem(image, name, l));
    if (!l) add("npm", name, "unpinned", `npm ${name} (${n.lockfile}) is not pinned`);
    else if (stale) add("npm", name, "stale", stale);
  }
  for (const name of Object.keys(lock?.npm ?? {})) if (!(name in def.inputs.npm)) add("npm", name, "extra", `npm ${name} is locked but no longer declared`);

  return problems;
}

/**
 * Why a build refuses this lock (an input unpinned, a pin for another declaration), with the fix; undefined
 * when it builds. `ignore`: kinds the caller pins itself (a catalog build pins parents before each child).
 */
export async function lockRefusal(image: LoadedImage, lock: Lock | undefined, ignore: InputKind[] = []): Promise<KilnError | undefined> {
  const problems = (await checkLock(image, lock)).filter((p) => p.state !== "extra" && !ignore.includes(p.kind));
  if (!problems.length) return undefined;
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return new KilnError(`${image.name}: ${first.state === "unpinned" ? "unpinned input" : "stale lock"}: ${first.message}${more}`, `run \`kiln refresh ${image.name}\``);
}
