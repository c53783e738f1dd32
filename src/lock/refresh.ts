/**
 * Making and updating locks. Two modes share one walk over the declared inputs:
 *  - refresh: re-resolve every input of the chosen kinds to its newest pin;
 *  - missing (`kiln lock`): resolve only what is unpinned or whose declaration
 *    changed, keeping every pin that still fits the definition.
 * Pins that resolve to what the lock already holds are kept as they are, so an
 * unchanged world rewrites every lock byte for byte.
 */
import type { LoadedImage } from "../definition/catalog.ts";
import type { Settings } from "../settings/schema.ts";
import { checkLock } from "./check.ts";
import { parentPackagesChanged, resolveDebianInput } from "./debian.ts";
import { resolveDebianSource } from "./debian-source.ts";
import { resolveNpm } from "./npm.ts";
import { declaredDownloads, INPUT_KINDS, type InputKind } from "./declared.ts";
import { diffLocks, type Change } from "./diff.ts";
import { readLock } from "./io.ts";
import { resolveDownload, resolveGit, resolveParent, type ResolveContext } from "./resolve.ts";
import type { Lock } from "./schema.ts";

export interface RefreshOptions {
  only?: InputKind[];
  /** Debian snapshot: a timestamp like 20261129T000000Z, or `latest` (the default). */
  snapshot?: string;
}

const nonEmpty = <T>(r: Record<string, T>): Record<string, T> | undefined => (Object.keys(r).length ? r : undefined);

async function updateLock(image: LoadedImage, settings: Settings, previous: Lock | undefined, mode: "refresh" | "missing", opts: RefreshOptions): Promise<Lock> {
  const kinds = new Set(opts.only?.length ? opts.only : INPUT_KINDS);
  const problems = mode === "missing" ? await checkLock(image, previous) : [];
  const needs = (kind: InputKind, name: string) =>
    mode === "refresh" ? kinds.has(kind) : problems.some((p) => p.kind === kind && p.name === name && p.state !== "extra");
  /** Undeclared pins go when their kind is being worked on; `--only` leaves other kinds untouched. */
  const prune = (kind: InputKind) => mode === "missing" || kinds.has(kind);
  const ctx: ResolveContext = { image, settings };
  const { def } = image;

  const git: NonNullable<Lock["git"]> = prune("git") ? {} : { ...previous?.git };
  for (const [name, decl] of Object.entries(def.inputs.git).sort()) {
    const old = previous?.git?.[name];
    git[name] = old && !needs("git", name) ? old : await resolveGit(name, decl, ctx);
  }

  const downloads: NonNullable<Lock["downloads"]> = prune("url") ? {} : { ...previous?.downloads };
  for (const [name, decl] of Object.entries(declaredDownloads(image)).sort()) {
    const old = previous?.downloads?.[name];
    downloads[name] = old && !needs("url", name) ? old : await resolveDownload(name, decl, ctx);
  }

  const parents: NonNullable<Lock["parents"]> = prune("image") ? {} : { ...previous?.parents };
  for (const [name, ref] of Object.entries(def.parents).sort()) {
    const old = previous?.parents?.[name];
    parents[name] = old && !needs("image", name) ? old : await resolveParent(name, ref, ctx);
  }

  let debian = prune("debian") ? undefined : previous?.debian;
  if (def.inputs.debian) {
    const old = previous?.debian;
    // Resolved on top of a parent: a new parent holding other packages needs the closure taken again.
    const onTopOf = def.inputs.debian.onTopOf;
    const parentMoved = !!onTopOf && !!old && previous?.parents?.[onTopOf]?.index !== parents[onTopOf]?.index && (await parentPackagesChanged(image, settings, old, parents));
    const keep = old && !needs("debian", "packages") && !parentMoved;
    debian = keep ? old : await resolveDebianInput(image, settings, { snapshot: opts.snapshot, previous: old, parents });
  }

  const debianSource: NonNullable<Lock["debianSource"]> = prune("source") ? {} : { ...previous?.debianSource };
  for (const [name, decl] of Object.entries(def.inputs.debianSource).sort()) {
    const old = previous?.debianSource?.[name];
    // Built on top of a parent: a new parent digest may hold other packages, so the closure is taken again (kept when equal).
    const parentMoved = !!decl.onTopOf && !!old && previous?.parents?.[decl.onTopOf]?.index !== parents[decl.onTopOf]?.index;
    debianSource[name] = old && !needs("source", name) && !parentMoved ? old : await resolveDebianSource(image, name, settings, { snapshot: opts.snapshot, previous: old, parents });
  }

  const npm: NonNullable<Lock["npm"]> = prune("npm") ? {} : { ...previous?.npm };
  for (const name of Object.keys(def.inputs.npm).sort()) {
    const old = previous?.npm?.[name];
    npm[name] = old && !needs("npm", name) ? old : await resolveNpm(image, name, settings);
  }

  return { lockVersion: 1, image: image.name, debian, git: nonEmpty(git), downloads: nonEmpty(downloads), parents: nonEmpty(parents), debianSource: nonEmpty(debianSource), npm: nonEmpty(npm) };
}

/** Re-resolves the chosen kinds (all by default) to their newest pins. Writes nothing. */
export async function refreshLock(image: LoadedImage, settings: Settings, opts: RefreshOptions = {}): Promise<{ lock: Lock; changes: Change[]; previous?: Lock }> {
  const previous = await readLock(image.dir);
  const lock = await updateLock(image, settings, previous, "refresh", opts);
  return { lock, changes: diffLocks(previous, lock), previous };
}

/** Resolves what is unpinned or stale relative to the definition, keeping every other pin. Writes nothing. */
export async function completeLock(image: LoadedImage, settings: Settings, opts: Pick<RefreshOptions, "snapshot"> = {}): Promise<{ lock: Lock; changes: Change[]; previous?: Lock }> {
  const previous = await readLock(image.dir);
  const lock = await updateLock(image, settings, previous, "missing", opts);
  return { lock, changes: diffLocks(previous, lock), previous };
}

/** Whether an image has anything to lock (images without inputs need no lock file). */
export function hasInputs(image: LoadedImage): boolean {
  const i = image.def.inputs;
  return !!i.debian || [i.git, i.downloads, i.debianSource, i.npm, image.def.parents].some((m) => Object.keys(m).length > 0);
}
