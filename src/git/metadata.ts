/**
 * Build metadata from git, per image: the last commit that touched the
 * image's folder gives `created`, `revision` and `version`, so commits to
 * other images leave this image's labels (and digest) alone. Outside a git
 * repository, without git, or before the first commit, the git fields are
 * simply absent: no labels, no failure.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors.ts";
import type { ImageDefinition } from "../definition/schema.ts";
import { run } from "../util/run.ts";

export interface GitMetadata {
  /** Committer date of the last commit touching the image folder, RFC 3339 UTC (`2025-01-02T03:04:05Z`). */
  created?: string;
  /** That commit's hash, with `-dirty` when the image folder has uncommitted changes. */
  revision?: string;
  /** `git describe --tags --always` of that commit, with `-dirty` likewise. */
  version?: string;
  /** The origin remote as an https URL, without credentials or `.git`. */
  source?: string;
  /** SPDX id detected from the LICENSE file at the repository root. */
  licenses?: string;
  /** Whether the image folder has uncommitted (or untracked) changes. */
  dirty?: boolean;
}

/** Runs git; undefined when git is missing or the command fails. */
async function git(cwd: string, args: string[]): Promise<string | undefined> {
  // No optional locks: a status must not take the index lock others may be using.
  const env = { ...process.env, GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" };
  const r = await run("git", args, { what: `git ${args[0]}`, cwd, env, allowFailure: true }).catch(() => undefined);
  return r?.code === 0 ? r.stdout.toString("utf8").trim() : undefined;
}

/**
 * Runs git inside a known work tree: a failure there is an error, never a
 * silent fallback, since dropping labels would quietly change the image digest.
 */
async function gitInTree(cwd: string, args: string[]): Promise<string> {
  const out = await git(cwd, args);
  if (out === undefined) throw new KilnError(`git ${args.join(" ")} failed in ${cwd}`, "the image's metadata labels come from git; check `git status` there and retry");
  return out;
}

export async function gitMetadata(imageDir: string, repoRoot: string): Promise<GitMetadata> {
  const meta: GitMetadata = {};
  const licenses = await detectLicense(repoRoot);
  if (licenses) meta.licenses = licenses;
  const top = await git(repoRoot, ["rev-parse", "--show-toplevel"]);
  if (top === undefined) return meta;

  const source = normalizeSourceUrl((await git(repoRoot, ["config", "--get", "remote.origin.url"])) ?? "");
  if (source) meta.source = source;

  const rel = path.relative(repoRoot, path.resolve(imageDir)) || ".";
  // A repository without commits has no history to label from.
  if ((await git(repoRoot, ["rev-parse", "--verify", "--quiet", "HEAD"])) === undefined) return meta;
  const last = await gitInTree(repoRoot, ["log", "-1", "--format=%H %ct", "--", rel]);
  if (!last) return meta;
  const [commit, epoch] = last.split(" ") as [string, string];
  const status = await gitInTree(repoRoot, ["status", "--porcelain", "--untracked-files=all", "--", rel]);
  const dirty = status !== "";
  const mark = dirty ? "-dirty" : "";
  const describe = await gitInTree(repoRoot, ["describe", "--tags", "--always", commit]);
  meta.created = new Date(Number(epoch) * 1000).toISOString().replace(/\.000Z$/, "Z");
  meta.revision = commit + mark;
  meta.version = describe + mark;
  meta.dirty = dirty;
  return meta;
}

/** The catalog's revision an image is built from: the checkout's commit and whether the image folder differs from it. */
export interface CatalogRevision {
  /** HEAD: the whole catalog as it was (definitions, contexts and whatever kiln code the catalog holds). */
  commit: string;
  /** The image folder has uncommitted (or untracked) changes: no commit holds what was built. */
  dirty: boolean;
  /** The origin remote as an https URL, when it has one. */
  source?: string;
}

/** Undefined outside a git repository or before its first commit. */
export async function catalogRevision(imageDir: string, repoRoot: string): Promise<CatalogRevision | undefined> {
  if ((await git(repoRoot, ["rev-parse", "--show-toplevel"])) === undefined) return undefined;
  const commit = await git(repoRoot, ["rev-parse", "--verify", "--quiet", "HEAD"]);
  if (!commit) return undefined;
  const rel = path.relative(repoRoot, path.resolve(imageDir)) || ".";
  const status = await gitInTree(repoRoot, ["status", "--porcelain", "--untracked-files=all", "--", rel]);
  const source = normalizeSourceUrl((await git(repoRoot, ["config", "--get", "remote.origin.url"])) ?? "");
  return { commit, dirty: status !== "", ...(source ? { source } : {}) };
}

/** `git@host:o/r.git`, `ssh://git@host:22/o/r.git`, `https://user:tok@host/o/r.git` -> `https://host/o/r`; local paths -> "". */
export function normalizeSourceUrl(url: string): string {
  const u = url.trim();
  if (!u) return "";
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(.+)$/.exec(u);
  let out: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      return "";
    }
    if (parsed.protocol === "file:") return "";
    const https = parsed.protocol === "http:" || parsed.protocol === "https:";
    // Other schemes (ssh, git) name the same host over https; their port does not carry over.
    out = `${https ? parsed.protocol : "https:"}//${parsed.hostname}${https && parsed.port ? `:${parsed.port}` : ""}${parsed.pathname}`;
  } else if (scp && !u.startsWith("/") && !u.startsWith(".")) {
    out = `https://${scp[1]}/${scp[2]!.replace(/^\/+/, "")}`;
  } else {
    return "";
  }
  return out.replace(/\/+$/, "").replace(/\.git$/, "");
}

const LICENSE_FILES = ["LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "LICENCE.md", "COPYING", "COPYING.md"];

export async function detectLicense(repoRoot: string): Promise<string | undefined> {
  for (const name of LICENSE_FILES) {
    const text = await fs.readFile(path.join(repoRoot, name), "utf8").catch(() => undefined);
    if (text !== undefined) return licenseFromText(text);
  }
  return undefined;
}

/** The SPDX id of a license text, by its distinctive wording; undefined when unrecognized. */
export function licenseFromText(raw: string): string | undefined {
  const spdx = /SPDX-License-Identifier:\s*([A-Za-z0-9.+-]+(?:\s+(?:OR|AND|WITH)\s+[A-Za-z0-9.+-]+)*)/.exec(raw);
  if (spdx) return spdx[1];
  const t = raw.replace(/\s+/g, " ");
  const gnu = (name: string) => new RegExp(`GNU ${name} PUBLIC LICENSE,? Version (\\d(?:\\.\\d)?)`).exec(t)?.[1];
  const agpl = gnu("AFFERO GENERAL");
  if (agpl) return `AGPL-${agpl.includes(".") ? agpl : `${agpl}.0`}-only`;
  const lgpl = gnu("LESSER GENERAL") ?? gnu("LIBRARY GENERAL");
  if (lgpl) return `LGPL-${lgpl.includes(".") ? lgpl : `${lgpl}.0`}-only`;
  const gpl = gnu("GENERAL");
  if (gpl) return `GPL-${gpl.includes(".") ? gpl : `${gpl}.0`}-only`;
  if (/Apache License,? Version 2\.0/i.test(t)) return "Apache-2.0";
  if (/Mozilla Public License,? (?:Version|v\.) ?2\.0/i.test(t)) return "MPL-2.0";
  if (/Permission is hereby granted, free of charge/i.test(t)) return "MIT";
  if (/Permission to use, copy, modify, and\/or distribute this software for any purpose/i.test(t)) return "ISC";
  if (/Redistribution and use in source and binary forms/i.test(t)) {
    return /Neither the name|names of its contributors may be used/i.test(t) ? "BSD-3-Clause" : "BSD-2-Clause";
  }
  if (/This is free and unencumbered software released into the public domain/i.test(t)) return "Unlicense";
  return undefined;
}

const LABEL = "org.opencontainers.image.";

/**
 * The `org.opencontainers.image.*` labels: git facts, with the definition's
 * own metadata winning for the fields it sets; empty values are left out.
 */
export function metadataLabels(meta: GitMetadata, def: Pick<ImageDefinition, "name" | "description" | "metadata">): Record<string, string> {
  const m = def.metadata;
  const fields: Record<string, string | undefined> = {
    authors: m.authors,
    created: meta.created,
    description: m.description ?? def.description,
    documentation: m.documentation,
    licenses: m.licenses ?? meta.licenses,
    revision: meta.revision,
    source: m.source ?? meta.source,
    title: m.title ?? def.name,
    url: m.url,
    vendor: m.vendor,
    version: meta.version,
  };
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v) labels[LABEL + k] = v;
  return labels;
}

/** Build args a Dockerfile may use (`ARG BUILD_VERSION`); only the known ones are passed. */
export function metadataBuildArgs(meta: GitMetadata): Record<string, string> {
  const args: Record<string, string | undefined> = {
    BUILD_CREATED: meta.created,
    BUILD_REVISION: meta.revision,
    BUILD_SOURCE: meta.source,
    BUILD_VERSION: meta.version,
  };
  return Object.fromEntries(Object.entries(args).filter((e): e is [string, string] => !!e[1]));
}
