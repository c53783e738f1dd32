/**
 * `kiln lint`: every definition loads and names existing parents, every
 * Dockerfile follows the catalog rules, every shell script passes shellcheck.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { resolveRef } from "../catalog/graph.ts";
import { defaultTargetOf, splitRef } from "../plan/plan.ts";
import { imagesDir, listImageNames, loadImage, type Catalog, type LoadedImage } from "../definition/catalog.ts";
import { isKilnError, KilnError } from "../errors.ts";
import { parseDockerfile, targetStage, type ParsedDockerfile } from "./dockerfile.ts";
import { sortFindings, type Finding } from "./findings.ts";
import { finalSetting, lintDockerfile, type InheritedSettings } from "./lint-dockerfile.ts";
import { clientImageRefs, missingClientFiles, runtimeField } from "./client-definition.ts";
import { runtimeOf } from "./images.ts";
import { findShellScripts, shellcheck } from "./shellcheck.ts";

export interface LintResult {
  images: string[];
  scripts: string[];
  findings: Finding[];
}

export interface LintOptions {
  /** The folder holding images/ and hack/. */
  root: string;
  /** Image names; undefined lints every image and hack/. */
  names?: string[];
}

export async function lint(opts: LintOptions): Promise<LintResult> {
  const all = await listImageNames(opts.root);
  const names = opts.names ?? all;
  const findings: Finding[] = [];
  const loaded = new Map<string, LoadedImage>();
  for (const name of all) {
    try {
      loaded.set(name, await loadImage(name, opts.root));
    } catch (e) {
      if (!isKilnError(e)) throw e;
      if (names.includes(name)) findings.push({ file: path.join(imagesDir(opts.root), name, "image.ts"), line: 1, rule: "definition", message: e.toLine() });
    }
  }
  for (const n of names) if (!all.includes(n)) await loadImage(n, opts.root); // throws the "unknown image" error
  const catalog: Catalog = { root: opts.root, images: loaded };
  const scriptDirs: string[] = opts.names ? [] : [path.join(opts.root, "hack")];
  for (const name of names) {
    const image = loaded.get(name);
    if (!image) continue;
    findings.push(...checkParents(image, catalog));
    findings.push(...(await checkClients(image, catalog)));
    findings.push(...(await checkDockerfile(image, await inheritedSettings(image, catalog))));
    scriptDirs.push(image.dir);
    const context = path.resolve(image.dir, image.def.context);
    if (!context.startsWith(image.dir + path.sep) && context !== image.dir) scriptDirs.push(context);
  }
  const scripts = [...new Set((await Promise.all(scriptDirs.map(findShellScripts))).flat())].sort();
  findings.push(...(await shellcheck(scripts)));
  return { images: names, scripts, findings: sortFindings(findings) };
}

function checkParents(image: LoadedImage, catalog: Catalog): Finding[] {
  const out: Finding[] = [];
  for (const [context, ref] of Object.entries(image.def.parents)) {
    try {
      resolveRef(catalog, ref, `${image.name} (parents.${context})`);
    } catch (e) {
      if (!(e instanceof KilnError)) throw e;
      out.push({ file: image.file, line: 1, rule: "definition", message: e.toLine() });
    }
  }
  return out;
}

/** Client scenarios: mounted files exist in the definition's folder, client and fixture images are in the catalog. */
async function checkClients(image: LoadedImage, catalog: Catalog): Promise<Finding[]> {
  const messages = new Set<string>();
  for (const target of Object.keys(image.def.targets)) {
    const runtime = runtimeOf(image.def, target);
    const at = runtimeField(image, target);
    for (const p of [...(await missingClientFiles(image.dir, runtime, at)), ...clientImageRefs(runtime, at, catalog).problems]) messages.add(`${p.field}: ${p.message}`);
  }
  return [...messages].map((message) => ({ file: image.file, line: 1, rule: "definition", message }));
}

async function readDockerfile(image: LoadedImage): Promise<{ file: string; df?: ParsedDockerfile }> {
  const file = path.resolve(image.dir, image.def.dockerfile);
  const text = await fs.readFile(file, "utf8").catch(() => undefined);
  return { file, ...(text === undefined ? {} : { df: parseDockerfile(text) }) };
}

async function checkDockerfile(image: LoadedImage, inherited: InheritedSettings): Promise<Finding[]> {
  const { file, df } = await readDockerfile(image);
  if (!df) return [{ file: image.file, line: 1, rule: "definition", message: `dockerfile: ${image.def.dockerfile} does not exist` }];
  const targets = Object.entries(image.def.targets).map(([name, t]) => ({ name, stage: t.stage, runtime: runtimeOf(image.def, name) }));
  return lintDockerfile(file, df, image.def, targets, inherited);
}

/** What each parent's final stage sets (USER, HEALTHCHECK), following parents of parents. */
async function inheritedSettings(image: LoadedImage, catalog: Catalog, depth = 0): Promise<InheritedSettings> {
  const out: InheritedSettings = {};
  if (depth > 8) return out;
  for (const [context, ref] of Object.entries(image.def.parents)) {
    const { image: name, target } = splitRef(ref);
    const parent = catalog.images.get(name);
    if (!parent) continue;
    const { df } = await readDockerfile(parent);
    if (!df) continue;
    const targetName = target ?? defaultTargetOf(parent);
    const stage = targetStage(df, parent.def.targets[targetName]?.stage ?? targetName);
    if (!stage) continue;
    const grand = await inheritedSettings(parent, catalog, depth + 1);
    const user = finalSetting(df, stage, "USER", grand);
    const healthcheck = finalSetting(df, stage, "HEALTHCHECK", grand);
    out[context.toLowerCase()] = { ...(user ? { USER: user.args } : {}), ...(healthcheck ? { HEALTHCHECK: healthcheck.args } : {}) };
  }
  return out;
}
