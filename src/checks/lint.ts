/**
 * `kiln lint`: every definition loads and names existing parents, every
 * Dockerfile follows the catalog rules, every shell script passes shellcheck.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { resolveRef } from "../catalog/graph.ts";
import { imagesDir, listImageNames, loadImage, type Catalog, type LoadedImage } from "../definition/catalog.ts";
import { isKilnError, KilnError } from "../errors.ts";
import { parseDockerfile } from "./dockerfile.ts";
import { sortFindings, type Finding } from "./findings.ts";
import { lintDockerfile } from "./lint-dockerfile.ts";
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
    findings.push(...(await checkDockerfile(image)));
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

async function checkDockerfile(image: LoadedImage): Promise<Finding[]> {
  const file = path.resolve(image.dir, image.def.dockerfile);
  const text = await fs.readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return [{ file: image.file, line: 1, rule: "definition", message: `dockerfile: ${image.def.dockerfile} does not exist` }];
  const targets = Object.entries(image.def.targets).map(([name, t]) => ({ name, stage: t.stage, runtime: runtimeOf(image.def, name) }));
  return lintDockerfile(file, parseDockerfile(text), image.def, targets);
}
