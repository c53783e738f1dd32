/**
 * Loads the site settings in layers, each overriding the one before:
 * schema defaults < site config file < environment < `--set key.path=value`.
 * Objects merge key by key, arrays and scalars replace. The merged result is
 * validated once; an error names the layer that set the offending key.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { z } from "zod";
import { KilnError } from "../errors.ts";
import {
  describeType,
  enumValues,
  formatKeyPath,
  parseKeyPath,
  resolveKeyPath,
  type Resolved,
} from "./keys.ts";
import { ENVIRONMENT_KEYS, isUri, settingsSchema, type Settings } from "./schema.ts";

export { describeSettingsKeys, type SettingsKeyInfo } from "./keys.ts";

export interface LoadSettingsOptions {
  /** Site config file; overrides $KILN_CONFIG and the default location. */
  configPath?: string;
  /** Environment to read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** `key.path=value` overrides from the command line, applied in order. */
  sets?: string[];
  /** Base for relative paths given on the command line or in the environment (default: cwd). */
  cwd?: string;
}

type Obj = Record<string, unknown>;
/** A layer's raw values plus, per key path, the words naming where it came from. */
interface Layer {
  values: Obj;
  sources: Map<string, string>;
}

const DEFAULT_NAMES = ["config.json", "config.yaml", "config.yml"];

/** Keys holding file paths: relative ones are resolved against the layer's base directory. */
const PATH_KEYS = [
  "engine.tls.ca",
  "engine.tls.cert",
  "engine.tls.key",
  "ca",
  "clientCert",
  "clientKey",
  "keyring",
  "signing.key",
  "signing.passwordFile",
  "signing.publicKey",
  "store",
  "cacheDir",
];
const PATH_MAPS = ["secrets"];

export async function loadSettings(opts: LoadSettingsOptions = {}): Promise<Settings> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const home = env.HOME || os.homedir();
  const layers: Layer[] = [];
  const file = await findConfigFile(opts.configPath, env, home);
  if (file) layers.push(await readConfigFile(file, home));
  layers.push(environmentLayer(env, cwd, home));
  layers.push(setLayer(opts.sets ?? [], cwd, home));
  return validate(layers);
}

/** The config file to read, or undefined when no default one exists. */
export async function findConfigFile(configPath: string | undefined, env: NodeJS.ProcessEnv, home: string): Promise<string | undefined> {
  const explicit = configPath || env.KILN_CONFIG;
  if (explicit) {
    const p = path.resolve(expandHome(explicit, home));
    if (!(await exists(p))) {
      const via = configPath ? "--config" : "KILN_CONFIG";
      throw new KilnError(`config file ${p} (from ${via}) does not exist`, `create it or point ${via} at an existing file`);
    }
    return p;
  }
  const dir = path.join(env.XDG_CONFIG_HOME || path.join(home, ".config"), "kiln");
  const found: string[] = [];
  for (const name of DEFAULT_NAMES) if (await exists(path.join(dir, name))) found.push(path.join(dir, name));
  if (found.length > 1) throw new KilnError(`several site config files in ${dir}: ${found.map((f) => path.basename(f)).join(", ")}`, "keep only one");
  return found[0];
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

function expandHome(p: string, home: string): string {
  return p === "~" ? home : p.startsWith("~/") ? path.join(home, p.slice(2)) : p;
}

async function readConfigFile(file: string, home: string): Promise<Layer> {
  const text = await fs.readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    throw new KilnError(`cannot read config file ${file}: ${e.code ?? e.message}`);
  });
  let data: unknown;
  try {
    data = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? `:${e.linePos[0].line}:${e.linePos[0].col}` : "";
    const msg = e instanceof YAMLParseError ? e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "") : (e as Error).message;
    throw new KilnError(`config file ${file}${where}: not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${msg}`);
  }
  if (data === null || data === undefined) data = {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new KilnError(`config file ${file}: expected a mapping of settings keys at the top level`);
  }
  const values = dropNulls(data as Obj) as Obj;
  resolvePaths(values, path.dirname(file), home);
  const sources = new Map<string, string>();
  recordSources(values, [], `config file ${file}`, sources);
  return { values, sources };
}

/** `key: null` (or `key: ~`) in a file means "not set": the default applies. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v;
  if (v && typeof v === "object") {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
    return out;
  }
  return v;
}

function isPem(s: string): boolean {
  return s.includes("-----BEGIN ");
}

function resolvePaths(values: Obj, base: string, home: string): void {
  // Inline PEM and URIs (a KMS key for signing) are not files.
  const fix = (p: unknown) => (typeof p === "string" && p !== "" && !isPem(p) && !isUri(p) ? path.resolve(base, expandHome(p, home)) : p);
  for (const key of PATH_KEYS) {
    const keys = key.split(".");
    const parent = getIn(values, keys.slice(0, -1));
    const last = keys[keys.length - 1]!;
    if (isObj(parent) && last in parent) parent[last] = fix(parent[last]);
  }
  for (const key of PATH_MAPS) {
    const map = values[key];
    if (isObj(map)) for (const k of Object.keys(map)) map[k] = fix(map[k]);
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function getIn(o: Obj, keys: string[]): unknown {
  let v: unknown = o;
  for (const k of keys) v = isObj(v) ? v[k] : undefined;
  return v;
}

function setIn(o: Obj, keys: string[], value: unknown): void {
  let cur = o;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(cur[k])) cur[k] = {};
    cur = cur[k] as Obj;
  }
  cur[keys[keys.length - 1]!] = value;
}

const sourceKey = (keys: readonly (string | number)[]) => keys.map(String).join("\0");

function recordSources(v: unknown, keys: string[], source: string, into: Map<string, string>): void {
  if (isObj(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) recordSources(x, [...keys, k], source, into);
  } else {
    into.set(sourceKey(keys), source);
  }
}

function environmentLayer(env: NodeJS.ProcessEnv, cwd: string, home: string): Layer {
  const layer: Layer = { values: {}, sources: new Map() };
  for (const [name, key] of Object.entries(ENVIRONMENT_KEYS)) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const source = `environment variable ${name}`;
    const resolved = resolveOrThrow(key, source);
    assign(layer, resolved, coerce(raw, resolved, source), source, cwd, home);
  }
  return layer;
}

function setLayer(sets: string[], cwd: string, home: string): Layer {
  const layer: Layer = { values: {}, sources: new Map() };
  for (const item of sets) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new KilnError(`--set ${item}: expected key.path=value`, "e.g. --set apt.proxy=http://proxy:3128 or --set 'hosts[my.host]=10.0.0.1'");
    const key = item.slice(0, eq);
    const raw = item.slice(eq + 1);
    const source = `--set ${key}`;
    let resolved = resolveOrThrow(key, source);
    // A whole map entry must be given as JSON; otherwise the path was a mistyped sub-key.
    if (resolved.node.kind === "object" && !raw.trimStart().startsWith("{") && resolved.orElse) {
      resolved = okOrThrow(resolved.orElse, source);
    }
    assign(layer, resolved, coerce(raw, resolved, source, true), source, cwd, home);
  }
  return layer;
}

type OkResolved = Extract<Resolved, { ok: true }>;

function resolveOrThrow(key: string, source: string): OkResolved {
  const segs = parseKeyPath(key);
  if (typeof segs === "string") throw new KilnError(`${source}: ${segs}`, "write key paths like apt.proxy or hosts[my.host]");
  return okOrThrow(resolveKeyPath(segs), source);
}

function okOrThrow(r: Resolved, source: string): OkResolved {
  if (r.ok) return r;
  if (r.note) throw new KilnError(`${source}: unknown settings key ${r.unknown}`, r.note);
  const list = r.suggestions.slice(0, 8);
  const more = r.suggestions.length > list.length ? ", ..." : "";
  throw new KilnError(`${source}: unknown settings key ${r.unknown}`, `valid keys: ${list.join(", ")}${more}`);
}

const TRUE = ["true", "1", "yes", "on"];
const FALSE = ["false", "0", "no", "off"];

/** Types a command-line or environment string like the same value in a config file. */
function coerce(raw: string, r: OkResolved, source: string, emptyUnsets = false): unknown {
  const node = r.node;
  const key = formatKeyPath(r.keys);
  const fail = (what: string): never => {
    throw new KilnError(`${source}: ${key} expects ${what}`);
  };
  if (raw === "" && emptyUnsets && node.optional && !["array", "record", "object"].includes(node.kind)) return undefined;
  switch (node.kind) {
    case "boolean": {
      const v = raw.trim().toLowerCase();
      if (TRUE.includes(v)) return true;
      if (FALSE.includes(v)) return false;
      return fail("true or false");
    }
    case "number": {
      const n = Number(raw);
      return raw.trim() !== "" && Number.isFinite(n) ? n : fail("a number");
    }
    case "enum":
      return enumValues(node).includes(raw) ? raw : fail(describeType(node));
    case "array": {
      if (raw.trimStart().startsWith("[")) {
        const v = parseJson(raw, () => fail(`${describeType(node)} (a JSON array or a comma-separated list)`));
        return Array.isArray(v) ? v : fail("a JSON array or a comma-separated list");
      }
      return raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    }
    case "record":
    case "object": {
      const v = parseJson(raw, () => fail(`${describeType(node)} as a JSON object`));
      return isObj(v) ? v : fail(`${describeType(node)} as a JSON object`);
    }
    default:
      return raw;
  }
}

function parseJson(raw: string, onError: () => never): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return onError();
  }
}

function assign(layer: Layer, r: OkResolved, value: unknown, source: string, cwd: string, home: string): void {
  // Path-valued keys given on the command line or in the environment are relative to the working directory.
  const probe: Obj = {};
  setIn(probe, r.keys, value);
  resolvePaths(probe, cwd, home);
  value = getIn(probe, r.keys);
  setIn(layer.values, r.keys, value);
  for (const k of [...layer.sources.keys()]) if (k === sourceKey(r.keys) || k.startsWith(sourceKey(r.keys) + "\0")) layer.sources.delete(k);
  recordSources(value, r.keys, source, layer.sources);
}

/** Deep merge: objects key by key, everything else (arrays too) replaces; undefined removes. */
export function mergeLayers(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete out[k];
    else if (isObj(v) && isObj(out[k])) out[k] = mergeLayers(out[k] as Obj, v);
    else out[k] = v;
  }
  return out;
}

function validate(layers: Layer[]): Settings {
  let merged: Obj = {};
  const sources = new Map<string, string>();
  for (const layer of layers) {
    merged = mergeLayers(merged, layer.values);
    for (const [k, s] of layer.sources) {
      for (const old of [...sources.keys()]) if (old.startsWith(k + "\0")) sources.delete(old);
      sources.set(k, s);
    }
  }
  const result = settingsSchema.safeParse(merged);
  if (result.success) return result.data;
  throw issueToError(result.error.issues[0]!, sources);
}

/** The layer that set a key path, else the one that set its closest sibling or enclosing key. */
function sourceOf(keys: readonly PropertyKey[], sources: Map<string, string>): string {
  const parts = keys.map(String);
  for (let n = parts.length; n >= 1; n--) {
    const prefix = sourceKey(parts.slice(0, n));
    const exact = sources.get(prefix);
    if (exact) return exact;
    for (const [k, s] of sources) if (k.startsWith(prefix + "\0")) return s;
  }
  return "settings";
}

function issueToError(issue: z.core.$ZodIssue, sources: Map<string, string>): KilnError {
  const keys = issue.path as (string | number)[];
  if (issue.code === "unrecognized_keys") {
    const unknown = issue.keys.map((k) => formatKeyPath([...keys, k]));
    const source = sourceOf([...keys, issue.keys[0]!], sources);
    const r = resolveKeyPath(parseKeyPath(unknown[0]!) as ReturnType<typeof parseKeyPath> & object);
    const suggestions = r.ok ? [] : r.suggestions.slice(0, 8);
    return new KilnError(`${source}: unknown settings key ${unknown.join(", ")}`, `valid keys: ${suggestions.join(", ")}`);
  }
  const source = sourceOf(keys, sources);
  const key = formatKeyPath(keys) || "(top level)";
  // Array items (numeric path parts) are described by their own expected type.
  const inArray = keys.some((k) => typeof k === "number");
  const r = keys.length && !inArray ? resolveKeyPath(keys.map((k) => ({ text: String(k), bracketed: true }))) : undefined;
  let what: string;
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) what = `is required (${r?.ok ? describeType(r.node) : `a ${issue.expected}`})`;
  else if (issue.code === "invalid_type") what = `expects ${r?.ok ? describeType(r.node) : `a ${issue.expected}`}`;
  else if (issue.code === "invalid_value") what = `expects one of ${issue.values.map(String).join(", ")}`;
  else if (issue.code === "invalid_format") what = `expects ${issue.format === "url" ? "a URL like http://deb.debian.org/debian" : `a ${issue.format}`}`;
  else what = issue.message;
  return new KilnError(`${source}: ${key} ${what}`);
}
