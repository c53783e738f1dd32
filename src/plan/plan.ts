/**
 * Definition + lock + settings + request -> BuildPlan. Pure: every input is
 * an argument (parent digests and git metadata are looked up by the caller),
 * so the same inputs always give the same plan.
 */
import path from "node:path";
import type { LoadedImage } from "../definition/catalog.ts";
import { SUPPORTED_PLATFORMS, type Platform } from "../definition/schema.ts";
import { KilnError } from "../errors.ts";
import type { Lock } from "../lock/schema.ts";
import { snapshotToEpoch } from "../lock/schema.ts";
import type { Settings } from "../settings/schema.ts";
import { SECRETS_DIR, WORK_DIR, type BuildPlan, type PlanOutput } from "./types.ts";

/** SOURCE_DATE_EPOCH when neither a lock nor the definition gives one: 2025-01-01T00:00:00Z. */
export const DEFAULT_SOURCE_DATE_EPOCH = 1735689600;

export interface BuildRequest {
  /** `debian` or `base:runtime` */
  ref: string;
  platforms?: string[];
  tags?: string[];
  /** Repository names replacing the definition's (`--image`). */
  imageNames?: string[];
  registries?: string[];
  push?: boolean;
  load?: boolean;
  outputs?: PlanOutput[];
  noCache?: boolean;
  cacheFrom?: string[];
  cacheTo?: string[];
  buildArgs?: Record<string, string>;
}

export interface PlanInputs {
  image: LoadedImage;
  request: BuildRequest;
  settings: Settings;
  lock?: Lock;
  /** Absolute path of the local store (parents are read from it by digest). */
  storeDir: string;
  /** Parent name (as in `def.parents`) -> index digest in the store. */
  parentDigests: Record<string, string>;
  /** The parents' latest creation time (seconds): the build is never dated earlier. */
  parentsEpoch?: number;
  /** Labels and build args from git metadata and the lock, computed by the caller. */
  labels: Record<string, string>;
  extraBuildArgs: Record<string, string>;
}

export function splitRef(ref: string): { image: string; target?: string } {
  const [image, target] = ref.split(":");
  return { image: image!, target };
}

export function defaultTargetOf(image: LoadedImage): string {
  return image.def.defaultTarget ?? (image.def.targets.image ? "image" : Object.keys(image.def.targets)[0]!);
}

export function makePlan(inp: PlanInputs): BuildPlan {
  const { image, request, settings, lock } = inp;
  const def = image.def;
  const targetName = splitRef(request.ref).target ?? defaultTargetOf(image);
  const target = def.targets[targetName];
  if (!target) {
    throw new KilnError(`image ${image.name} has no target "${targetName}"`, `targets: ${Object.keys(def.targets).join(", ")}`);
  }
  const platforms = resolvePlatforms(request.platforms, target.platforms ?? def.platforms, image.name);
  const ownEpoch = lock?.debian ? snapshotToEpoch(lock.debian.snapshot) : (def.sourceDateEpoch ?? DEFAULT_SOURCE_DATE_EPOCH);
  const sourceDateEpoch = Math.max(ownEpoch, inp.parentsEpoch ?? 0);

  const placeholders = {
    snapshotDate: lock?.debian ? `${lock.debian.snapshot.slice(0, 4)}-${lock.debian.snapshot.slice(4, 6)}-${lock.debian.snapshot.slice(6, 8)}` : undefined,
    version: inp.labels["org.opencontainers.image.version"],
  };
  const tags = (request.tags ?? target.outputs?.tags ?? def.outputs.tags ?? ["latest"]).map((t) => fillPlaceholders(t, placeholders, image.name));
  const isDefault = targetName === defaultTargetOf(image);
  const names = request.imageNames ?? target.outputs?.names ?? def.outputs.names ?? [isDefault ? `kiln/${image.name}` : `kiln/${image.name}-${targetName}`];
  const repoTags = names.flatMap((n) => tags.map((t) => `${n}:${t}`));

  const registries = request.registries ?? settings.registries;
  if (request.push && registries.length === 0) {
    throw new KilnError("--push needs a registry to push to", "pass --registry HOST[/NAMESPACE] or set `registries` in the site config");
  }

  const namedContexts: BuildPlan["namedContexts"] = {};
  for (const [name, ref] of sortedEntries(def.parents)) {
    const digest = inp.parentDigests[name];
    if (!digest) throw new KilnError(`parent ${ref} of ${image.name} is not in the local store`, `build it first: kiln build ${ref}`);
    namedContexts[name] = { layout: inp.storeDir, digest };
  }
  const prepare: string[] = [];
  let contextDir = path.resolve(image.dir, def.context);
  const debian = def.inputs.debian;
  if (debian?.set === "minbase") {
    prepare.push("debian: rootfs from the locked packages");
    contextDir = `${WORK_DIR}/context`;
  } else if (debian && debian.packages.length > 0) {
    prepare.push("debian: local repository of the locked packages");
    namedContexts.debs = { dir: `${WORK_DIR}/debs` };
  }
  for (const name of Object.keys(def.inputs.git).sort()) {
    prepare.push(`git: ${name} at the locked commit`);
    namedContexts[`git-${name}`] = { dir: `${WORK_DIR}/git-${name}` };
  }
  if (Object.keys(def.inputs.downloads).length > 0) {
    prepare.push("downloads: verified against the lock");
    namedContexts.downloads = { dir: `${WORK_DIR}/downloads` };
  }
  for (const name of Object.keys(def.inputs.debianSource).sort()) {
    prepare.push(`debian source: ${name} (.dsc, its files and the locked build-dependencies)`);
    namedContexts[`source-${name}`] = { dir: `${WORK_DIR}/source-${name}` };
  }
  for (const name of Object.keys(def.inputs.npm).sort()) {
    prepare.push(`npm: ${name} (package-lock and the verified tarballs as an offline cache)`);
    namedContexts[`npm-${name}`] = { dir: `${WORK_DIR}/npm-${name}` };
  }

  const secrets = [
    ...def.secrets.map((id) => ({ id, src: `${SECRETS_DIR}/${id}` })),
    // A site file given for one of the definition's ids replaces the rendered one (see settings/secrets.ts).
    ...sortedEntries(settings.secrets)
      .filter(([id]) => !(def.secrets as string[]).includes(id))
      .map(([id, src]) => ({ id, src: path.resolve(src) })),
  ];

  return {
    ref: `${image.name}:${targetName}`,
    image: image.name,
    target: targetName,
    ...((target.stage ?? (targetName === "image" ? undefined : targetName)) ? { stage: target.stage ?? targetName } : {}),
    contextDir,
    dockerfile: path.resolve(image.dir, def.dockerfile),
    platforms,
    sourceDateEpoch,
    buildArgs: sortedRecord({
      ...def.buildArgs,
      ...target.buildArgs,
      ...inp.extraBuildArgs,
      ...request.buildArgs,
      SOURCE_DATE_EPOCH: String(sourceDateEpoch),
    }),
    labels: sortedRecord(inp.labels),
    secrets,
    namedContexts,
    addHosts: sortedEntries(settings.hosts).map(([h, ip]) => `${h}=${ip}`),
    noCache: request.noCache ?? false,
    cacheFrom: [...settings.cache.from, ...(request.cacheFrom ?? [])],
    cacheTo: [...settings.cache.to, ...(request.cacheTo ?? [])],
    outputs: request.outputs ?? [],
    push: request.push ? registries.flatMap((r) => repoTags.map((t) => `${r.replace(/\/+$/, "")}/${t}`)) : [],
    load: request.load ? repoTags : [],
    prepare,
  };
}

function resolvePlatforms(requested: string[] | undefined, declared: Platform[], imageName: string): Platform[] {
  if (!requested || requested.length === 0) return [...declared];
  const out: Platform[] = [];
  for (const p of requested.flatMap((r) => r.split(",")).map((r) => r.trim()).filter(Boolean)) {
    if (!(SUPPORTED_PLATFORMS as readonly string[]).includes(p)) {
      throw new KilnError(`invalid platform "${p}"`, `use one of ${SUPPORTED_PLATFORMS.join(", ")}`);
    }
    if (!declared.includes(p as Platform)) {
      throw new KilnError(`image ${imageName} is not built for ${p}`, `its platforms are ${declared.join(", ")}`);
    }
    if (!out.includes(p as Platform)) out.push(p as Platform);
  }
  return out;
}

function fillPlaceholders(tag: string, values: Record<string, string | undefined>, imageName: string): string {
  return tag.replace(/\{(\w+)\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new KilnError(`tag "${tag}" of ${imageName} needs {${key}}, which is not known`, key === "snapshotDate" ? `lock the image first: kiln lock ${imageName}` : "remove the placeholder");
    return v.replace(/[^A-Za-z0-9_.-]/g, "-");
  });
}

function sortedEntries<V>(r: Record<string, V>): [string, V][] {
  return Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(sortedEntries(r));
}
