/**
 * The settings keys as data, read from the zod schema: their paths, types,
 * descriptions, defaults and environment variables. Used to parse
 * `--set key.path=value`, to type environment values, to word errors, and
 * to check docs/settings.md against the schema.
 *
 * Paths: object keys are joined with dots. Map keys (hosts, registries,
 * secret ids) may contain dots themselves, so they can be written in
 * brackets: `hosts[my.host]`, `credentials[reg.example.com].username`.
 * Unbracketed dotted map keys also work where the rest of the path makes
 * the split unambiguous (`credentials.reg.example.com.username`).
 */
import type { z } from "zod";
import { ENVIRONMENT_KEYS, settingsSchema } from "./schema.ts";

type Schema = z.ZodType;
type Kind = "string" | "boolean" | "number" | "enum" | "array" | "record" | "object";

/** A schema node with its wrappers (optional, default) peeled off. */
interface Node {
  schema: Schema;
  kind: Kind;
  description: string;
  optional: boolean;
}

function defOf(s: Schema): { type: string; [k: string]: unknown } {
  return (s as unknown as { def: { type: string } }).def;
}

function peel(schema: Schema): Node {
  let s = schema;
  let description = s.description ?? "";
  let optional = false;
  for (;;) {
    const def = defOf(s);
    if (def.type === "optional" || def.type === "default" || def.type === "nullable") {
      if (def.type !== "nullable") optional = true;
      s = def.innerType as Schema;
      description ||= s.description ?? "";
      continue;
    }
    return { schema: s, kind: def.type as Kind, description, optional };
  }
}

function shapeOf(n: Node): Record<string, Schema> {
  return (n.schema as unknown as { shape: Record<string, Schema> }).shape;
}
function valueOf(n: Node): Node {
  return peel(defOf(n.schema).valueType as Schema);
}
function elementOf(n: Node): Node {
  return peel(defOf(n.schema).element as Schema);
}
export function enumValues(n: Node): string[] {
  return (n.schema as unknown as { options: string[] }).options;
}

/** Human words for what a node accepts, e.g. "true or false", "one of auto, buildx, buildctl". */
export function describeType(n: Node): string {
  switch (n.kind) {
    case "boolean":
      return "true or false";
    case "number":
      return "a number";
    case "enum":
      return `one of ${enumValues(n).join(", ")}`;
    case "array": {
      const el = elementOf(n);
      const formats = (el.schema as unknown as { format?: string }).format;
      return formats === "url" ? "a list of URLs" : `a list of ${el.kind}s`;
    }
    case "record": {
      const v = valueOf(n);
      return v.kind === "object" ? `a map of name -> {${Object.keys(shapeOf(v)).join(", ")}}` : `a map of name -> ${v.kind}`;
    }
    case "object":
      return `an object with ${Object.keys(shapeOf(n)).join(", ")}`;
    default:
      return /file path/.test(n.description) ? "a file path or inline PEM text" : "a string";
  }
}

export interface SettingsKeyInfo {
  /** `engine.driver`, `hosts.<name>`, `credentials.<name>.username`. */
  key: string;
  /** What the key accepts, in words. */
  type: string;
  description: string;
  /** The default, when the schema has one (JSON-encoded for display). */
  default?: string;
  /** Environment variable that sets the key, if any. */
  env?: string;
}

const ENV_BY_KEY = new Map(Object.entries(ENVIRONMENT_KEYS).map(([env, key]) => [key, env]));
const DEFAULTS: unknown = settingsSchema.parse({});

function defaultAt(keys: string[]): unknown {
  let v: unknown = DEFAULTS;
  for (const k of keys) v = v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** Every settings key with its type, description, default and environment variable, in schema order. */
export function describeSettingsKeys(): SettingsKeyInfo[] {
  const out: SettingsKeyInfo[] = [];
  const visit = (node: Node, keys: string[], display: string[]) => {
    if (node.kind === "object") {
      for (const [k, child] of Object.entries(shapeOf(node))) visit(peel(child), [...keys, k], [...display, k]);
      return;
    }
    const key = display.join(".");
    const info: SettingsKeyInfo = { key, type: describeType(node), description: node.description };
    const def = keys.includes("<name>") ? undefined : defaultAt(keys);
    if (def !== undefined) info.default = JSON.stringify(def);
    const env = ENV_BY_KEY.get(key);
    if (env) info.env = env;
    out.push(info);
    if (node.kind === "record" && valueOf(node).kind === "object") {
      for (const [k, child] of Object.entries(shapeOf(valueOf(node)))) {
        visit(peel(child), [...keys, "<name>", k], [...display, "<name>", k]);
      }
    }
  };
  visit(peel(settingsSchema), [], []);
  return out;
}

/** One path segment; bracketed ones are map keys taken literally. */
export interface Segment {
  text: string;
  bracketed: boolean;
}

/** Splits `a.b[c.d].e` into segments; returns an error string on bad syntax. */
export function parseKeyPath(path: string): Segment[] | string {
  const segs: Segment[] = [];
  let i = 0;
  while (i < path.length) {
    if (path[i] === "[") {
      const end = path.indexOf("]", i);
      if (end < 0) return `unclosed "[" in ${path}`;
      let text = path.slice(i + 1, end);
      if (/^(["']).*\1$/.test(text)) text = text.slice(1, -1);
      if (!text) return `empty [] in ${path}`;
      segs.push({ text, bracketed: true });
      i = end + 1;
      if (path[i] === ".") i++;
      else if (i < path.length && path[i] !== "[") return `expected "." or "[" after "]" in ${path}`;
      continue;
    }
    let end = i;
    while (end < path.length && path[end] !== "." && path[end] !== "[") end++;
    const text = path.slice(i, end);
    if (!text) return `empty segment in ${path}`;
    segs.push({ text, bracketed: false });
    i = end;
    if (path[i] === ".") {
      i++;
      if (i === path.length) return `trailing "." in ${path}`;
    }
  }
  if (segs.length === 0) return "empty key";
  return segs;
}

/** Shows a key path as the user would write it, bracketing map keys with dots. */
export function formatKeyPath(keys: readonly (string | number)[]): string {
  let out = "";
  for (const k of keys) {
    const s = String(k);
    if (typeof k === "number") out += `[${k}]`;
    else if (/^[A-Za-z0-9_<>-]+$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${s}]`;
  }
  return out;
}

export type Resolved =
  | { ok: true; keys: string[]; node: Node; /** Set when the whole path was taken as a map key: the reading if the value is not an object. */ orElse?: Resolved }
  | { ok: false; unknown: string; suggestions: string[]; note?: string };

/** All key paths under a node, for suggestions (map keys shown as `<name>`). */
function keysUnder(node: Node, prefix: string[]): string[][] {
  if (node.kind === "object") return Object.entries(shapeOf(node)).flatMap(([k, c]) => keysUnder(peel(c), [...prefix, k]));
  if (node.kind === "record" && valueOf(node).kind === "object") return [prefix, ...keysUnder(valueOf(node), [...prefix, "<name>"])];
  return [prefix];
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** Close keys first (edit distance of the mistyped segment), then the rest under the same parent. */
function suggest(node: Node, prefix: string[], attempted: string): string[] {
  const depth = prefix.length;
  const scored = keysUnder(node, prefix).map((k) => ({ k: formatKeyPath(k), d: levenshtein(k[depth] ?? "", attempted) }));
  const limit = Math.max(2, Math.floor(attempted.length / 3));
  const close = scored.filter((s) => s.d <= limit).sort((a, b) => a.d - b.d);
  return [...close, ...scored.filter((s) => s.d > limit)].map((s) => s.k);
}

/** Walks the schema along a path; map keys may span several unbracketed segments. */
export function resolveKeyPath(segs: Segment[], node: Node = peel(settingsSchema), prefix: string[] = []): Resolved {
  if (segs.length === 0) return { ok: true, keys: prefix, node };
  const [head, ...rest] = segs as [Segment, ...Segment[]];
  if (node.kind === "object") {
    const shape = shapeOf(node);
    const child = Object.hasOwn(shape, head.text) ? shape[head.text] : undefined;
    if (!child) {
      return { ok: false, unknown: formatKeyPath([...prefix, head.text]), suggestions: suggest(node, prefix, head.text) };
    }
    return resolveKeyPath(rest, peel(child), [...prefix, head.text]);
  }
  if (node.kind === "record") {
    const value = valueOf(node);
    if (head.bracketed) return resolveKeyPath(rest, value, [...prefix, head.text]);
    // The map key runs over unbracketed segments until the rest resolves inside the value.
    const plain = segs.findIndex((s) => s.bracketed);
    const run = plain < 0 ? segs.length : plain;
    if (value.kind !== "object") {
      if (run < segs.length) return resolveKeyPath(segs.slice(run), value, [...prefix, segs.slice(0, run).map((s) => s.text).join(".")]);
      return { ok: true, keys: [...prefix, segs.map((s) => s.text).join(".")], node: value };
    }
    let firstFailure: Resolved | undefined;
    for (let k = 1; k < segs.length; k++) {
      if (k > run) break;
      const key = segs.slice(0, k).map((s) => s.text).join(".");
      const r = resolveKeyPath(segs.slice(k), value, [...prefix, key]);
      if (r.ok) return r;
      if (k === Math.min(run, segs.length - 1)) firstFailure = r;
    }
    if (run === segs.length) {
      // The whole path is the map key: the value must then be a whole entry (JSON object).
      return { ok: true, keys: [...prefix, segs.map((s) => s.text).join(".")], node: value, orElse: firstFailure };
    }
    return firstFailure ?? { ok: false, unknown: formatKeyPath([...prefix, ...segs.map((s) => s.text)]), suggestions: keysUnder(value, [...prefix, "<name>"]).map(formatKeyPath) };
  }
  const attempted = formatKeyPath([...prefix, ...segs.map((s) => s.text)]);
  return { ok: false, unknown: attempted, suggestions: [], note: `${formatKeyPath(prefix)} is ${describeType(node)} and has no sub-keys` };
}

export type { Node as SettingsNode };
