/**
 * Loading image definitions: `images/<name>/image.ts` files, validated at
 * load time so that a mistake is reported with the file, the field and what
 * is allowed, before anything else runs.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { z } from "zod";
import { KilnError } from "../errors.ts";
import { catalogRoot } from "../paths.ts";
import { describeLoadFailure } from "./load-error.ts";
import { definitionSchema, type ImageDefinition } from "./schema.ts";

export const DEFINITION_FILE = "image.ts";

export interface LoadedImage {
  name: string;
  /** Absolute folder of the definition. */
  dir: string;
  /** Absolute path of image.ts. */
  file: string;
  def: ImageDefinition;
}

export interface Catalog {
  root: string;
  images: Map<string, LoadedImage>;
}

export function imagesDir(root = catalogRoot()): string {
  return path.join(root, "images");
}

/** Names of all image folders that hold a definition, sorted. */
export async function listImageNames(root = catalogRoot()): Promise<string[]> {
  const entries = await fs.readdir(imagesDir(root), { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() && (await exists(path.join(imagesDir(root), e.name, DEFINITION_FILE)))) names.push(e.name);
  }
  return names.sort();
}

export async function loadCatalog(root = catalogRoot()): Promise<Catalog> {
  const images = new Map<string, LoadedImage>();
  // Loaded side by side (no-op catalog builds stay fast as the catalog grows); the map keeps name order.
  const names = await listImageNames(root);
  const loaded = await Promise.all(names.map((name) => loadImage(name, root)));
  names.forEach((name, i) => images.set(name, loaded[i]!));
  return { root, images };
}

/** Loads one image by name; an unknown name lists the known ones. */
export async function loadImage(name: string, root = catalogRoot()): Promise<LoadedImage> {
  const dir = path.join(imagesDir(root), name);
  const file = path.join(dir, DEFINITION_FILE);
  if (!(await exists(file))) {
    const known = await listImageNames(root);
    const close = known.filter((k) => similar(k, name));
    throw new KilnError(
      `unknown image "${name}": no ${path.relative(process.cwd(), file) || file}`,
      close.length ? `did you mean ${close.join(" or ")}? (\`kiln ls\` lists all images)` : `known images: ${known.join(", ") || "none"}`,
    );
  }
  return loadDefinitionFile(file, name);
}

/** Imports and validates one definition file. */
export async function loadDefinitionFile(file: string, expectedName?: string): Promise<LoadedImage> {
  const rel = path.relative(process.cwd(), file) || file;
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (e) {
    throw new KilnError(describeLoadFailure(e, file), "fix the TypeScript error in that file");
  }
  if (mod.default === undefined) throw new KilnError(`${rel}: no default export`, "end the file with `export default defineImage({ ... })`");
  const parsed = definitionSchema.safeParse(mod.default, { reportInput: true });
  if (!parsed.success) throw new KilnError(`${rel}: ${describeIssue(parsed.error.issues[0]!)}`, "see the definition reference in README.md");
  const def = parsed.data;
  const dir = path.dirname(file);
  if (expectedName && def.name !== expectedName) {
    throw new KilnError(`${rel}: name: "${def.name}" does not match its folder "${expectedName}"`, `set name: "${expectedName}" or rename the folder`);
  }
  if (def.defaultTarget && !(def.defaultTarget in def.targets)) {
    throw new KilnError(`${rel}: defaultTarget: "${def.defaultTarget}" is not one of the targets (${Object.keys(def.targets).join(", ")})`);
  }
  const onTopOf = def.inputs.debian?.onTopOf;
  if (onTopOf && !(onTopOf in def.parents)) {
    throw new KilnError(`${rel}: inputs.debian.onTopOf: "${onTopOf}" is not one of the parents (${Object.keys(def.parents).join(", ") || "none"})`, `name a key of parents, e.g. parents: { "${onTopOf}": "base:runtime" }`);
  }
  if (onTopOf && def.inputs.debian?.set === "minbase") throw new KilnError(`${rel}: inputs.debian.onTopOf does not apply to set: "minbase"`, "a minbase rootfs starts from nothing");
  return { name: def.name, dir, file, def };
}

/** A field as the definition spells it: `runtime.clients[0].files["/certs"]`. */
export function fieldPath(segments: PropertyKey[]): string {
  return segments
    .map((p, i) => (typeof p === "number" ? `[${p}]` : !/^[A-Za-z_$][\w$-]*$/.test(String(p)) ? `[${JSON.stringify(String(p))}]` : i ? `.${String(p)}` : String(p)))
    .join("");
}

/** One line: the field path, what is wrong, and what is allowed. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? fieldPath(issue.path) : "(definition)";
  switch (issue.code) {
    case "invalid_key":
      // A record key that its own schema refused: say why, not just "invalid key".
      return `${field}: invalid key${issue.issues[0] ? `: ${describeIssue(issue.issues[0]).replace(/^\(definition\): /, "")}` : ""}`;
    case "unrecognized_keys":
      return `${field === "(definition)" ? "" : field + ": "}unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}${allowedKeysHint(issue.path)}`;
    case "invalid_value":
      return `${field}: invalid value; allowed: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_type":
      return `${field}: expected ${issue.expected}${issue.input === undefined ? " (missing)" : `, got ${typeOf(issue.input)}`}`;
    default:
      return `${field}: ${issue.message}`;
  }
}

function allowedKeysHint(p: PropertyKey[]): string {
  let schema: unknown = definitionSchema;
  for (const seg of p) {
    schema = unwrap(schema);
    const shape = (schema as { shape?: Record<string, unknown> }).shape;
    const element = (schema as { def?: { element?: unknown; valueType?: unknown } }).def;
    if (shape && typeof seg === "string") schema = shape[seg];
    else if (element?.element) schema = element.element;
    else if (element?.valueType) schema = element.valueType;
    else return "";
  }
  const shape = (unwrap(schema) as { shape?: Record<string, unknown> }).shape;
  return shape ? `; allowed: ${Object.keys(shape).join(", ")}` : "";
}

function unwrap(schema: unknown): unknown {
  let s = schema as { def?: { innerType?: unknown; type?: string } };
  while (s?.def?.innerType) s = s.def.innerType as typeof s;
  return s;
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v === "string" ? `string ${JSON.stringify(v)}` : typeof v;
}

function similar(a: string, b: string): boolean {
  if (a.startsWith(b) || b.startsWith(a)) return true;
  // Levenshtein distance at most 2.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]! <= 2;
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}
