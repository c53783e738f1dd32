/**
 * The exact Debian packages the engine runs on (hack/engine/packages.json)
 * and the apt configuration that makes them installable: a source for the
 * extra Debian suites and a preferences file that lets only the named
 * packages come from them. Everything here but `loadPins` is pure.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { KilnError } from "../errors.ts";
import { REPO_ROOT } from "../paths.ts";

export const PINS_FILE = path.join(REPO_ROOT, "hack", "engine", "packages.json");
export const APT_SOURCES_FILE = "/etc/apt/sources.list.d/kiln-engine.sources";
export const APT_PREFERENCES_FILE = "/etc/apt/preferences.d/kiln-engine";

const pinSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/),
  version: z.string().min(1),
  /** Take it from this Debian suite (apt preferences pin it there). Default: the base suite. */
  suite: z.string().optional(),
  /**
   * Host tools that get security updates (curl, ca-certificates, ...): any installed
   * version is kept; a missing one gets this version, else the newest of its release.
   */
  anyVersion: z.boolean().default(false),
});

const pinsSchema = z.strictObject({
  comment: z.array(z.string()).optional(),
  mirror: z.string().url(),
  securityMirror: z.string().url(),
  keyring: z.string(),
  /** The Debian release the pins were taken from; its -updates and -security suites belong to it. */
  base: z.string(),
  packages: z.array(pinSchema).min(1),
});

export type Pin = z.output<typeof pinSchema>;
export type Pins = z.output<typeof pinsSchema>;

export async function loadPins(file = PINS_FILE): Promise<Pins> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (e) {
    throw new KilnError(`cannot read the engine package pins ${file}: ${(e as Error).message}`, "restore it from git");
  }
  const parsed = pinsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new KilnError(`${file}: ${issue.path.join(".") || "(root)"}: ${issue.message}`, "restore it from git");
  }
  return parsed.data;
}

export interface HostOs {
  id: string;
  idLike: string[];
  codename?: string;
  prettyName?: string;
}

/** /etc/os-release -> the fields setup decides on. */
export function parseOsRelease(text: string): HostOs {
  const fields: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^([A-Z_]+)=(.*)$/);
    if (m) fields[m[1]!] = m[2]!.replace(/^"(.*)"$/, "$1");
  }
  return {
    id: fields.ID ?? "unknown",
    idLike: (fields.ID_LIKE ?? "").split(/\s+/).filter(Boolean),
    codename: fields.VERSION_CODENAME || undefined,
    prettyName: fields.PRETTY_NAME,
  };
}

export function isDebianLike(host: HostOs): boolean {
  return host.id === "debian" || host.id === "ubuntu" || host.idLike.includes("debian") || host.idLike.includes("ubuntu");
}

/** The host's own Debian suite, if it is Debian (its sources already cover it). */
function ownSuite(host: HostOs): string | undefined {
  return host.id === "debian" ? host.codename : undefined;
}

/**
 * Debian suites to add as sources: every suite a pin names that the host does not
 * already have. A host that is not the base release also needs the base release
 * with its updates and security suites (pinned point releases come from there).
 */
export function extraSuites(pins: Pins, host: HostOs): { mirror: string; suites: string[] }[] {
  const own = ownSuite(host);
  const suites = new Set<string>();
  for (const p of pins.packages) suites.add(p.suite ?? pins.base);
  suites.delete(own ?? "");
  const main = [...suites].sort();
  if (suites.has(pins.base)) main.push(`${pins.base}-updates`);
  const groups = [{ mirror: pins.mirror, suites: main }];
  if (suites.has(pins.base)) groups.push({ mirror: pins.securityMirror, suites: [`${pins.base}-security`] });
  return groups.filter((g) => g.suites.length > 0);
}

/** The deb822 source file, or undefined when the host needs no extra suite. */
export function renderSources(pins: Pins, host: HostOs): string | undefined {
  const groups = extraSuites(pins, host);
  if (groups.length === 0) return undefined;
  const header = "# Written by `kiln engine setup`: Debian suites holding the engine's pinned packages.\n";
  return (
    header +
    groups
      .map((g) => ["Types: deb", `URIs: ${g.mirror}`, `Suites: ${g.suites.join(" ")}`, "Components: main", `Signed-By: ${pins.keyring}`].join("\n") + "\n")
      .join("\n")
  );
}

/**
 * apt preferences: the added suites at priority 100 (never chosen by themselves),
 * and each package with an explicit suite pinned to it at 990.
 */
export function renderPreferences(pins: Pins, host: HostOs): string {
  const blocks: string[] = ["# Written by `kiln engine setup`: only the packages named here come from the added suites."];
  for (const g of extraSuites(pins, host)) {
    for (const suite of g.suites) blocks.push(["Package: *", `Pin: release n=${suite}`, "Pin-Priority: 100"].join("\n"));
  }
  const bySuite = new Map<string, string[]>();
  for (const p of pins.packages) if (p.suite) bySuite.set(p.suite, [...(bySuite.get(p.suite) ?? []), p.name]);
  for (const [suite, names] of [...bySuite].sort(([a], [b]) => a.localeCompare(b))) {
    blocks.push([`Package: ${names.join(" ")}`, `Pin: release n=${suite}`, "Pin-Priority: 990"].join("\n"));
  }
  return blocks.join("\n\n") + "\n";
}

export interface PackageNeed {
  name: string;
  want: string;
  /** The Debian suite it belongs to (its pin's suite, else the base release). */
  suite: string;
  /** Installed version, when one is (but not the pinned one). */
  have?: string;
  anyVersion: boolean;
}

/** Pins not satisfied by the installed packages (package -> installed version). */
export function unsatisfiedPins(pins: Pins, installed: Map<string, string>): PackageNeed[] {
  const needs: PackageNeed[] = [];
  for (const p of pins.packages) {
    const have = installed.get(p.name);
    const ok = have !== undefined && (have === p.version || p.anyVersion);
    if (!ok) needs.push({ name: p.name, want: p.version, suite: p.suite ?? pins.base, have, anyVersion: p.anyVersion });
  }
  return needs;
}

export interface Offer {
  version: string;
  /** The suite it comes from, e.g. bookworm-security. */
  suite: string;
}

/** `apt-cache madison` output -> package -> versions the mirror offers, with their suites. */
export function parseMadison(out: string): Map<string, Offer[]> {
  const offers = new Map<string, Offer[]>();
  for (const line of out.split("\n")) {
    const [name, version, source] = line.split("|").map((s) => s.trim());
    if (!name || !version) continue;
    const suite = source?.split(/\s+/)[1]?.split("/")[0] ?? "";
    const list = offers.get(name) ?? [];
    if (!list.some((o) => o.version === version && o.suite === suite)) list.push({ version, suite });
    offers.set(name, list);
  }
  return offers;
}

export interface InstallChoice {
  /** `name=version` arguments for apt-get install. */
  install: string[];
  /** Pins the mirror no longer offers, each as one sentence. */
  vanished: string[];
  /** Versions installed other than pinned, and why. */
  notes: string[];
}

/**
 * What to install for the unmet pins, given what the mirror offers. An exact pin
 * must be on the mirror. An `anyVersion` pin whose version is gone takes the
 * newest version of its own release (never one from a suite added for other
 * packages). `newerOrEqual(a, b)`: Debian version a >= b.
 */
export function chooseInstall(needs: PackageNeed[], offers: Map<string, Offer[]>, newerOrEqual: (a: string, b: string) => boolean, pinsFile = PINS_FILE): InstallChoice {
  const choice: InstallChoice = { install: [], vanished: [], notes: [] };
  const newestFirst = (a: string, b: string) => (a === b ? 0 : newerOrEqual(a, b) ? -1 : 1);
  for (const n of needs) {
    const offered = offers.get(n.name) ?? [];
    const versions = [...new Set(offered.map((o) => o.version))];
    if (versions.includes(n.want)) {
      choice.install.push(`${n.name}=${n.want}`);
      continue;
    }
    if (n.anyVersion) {
      const newest = [...new Set(offered.filter((o) => o.suite === n.suite || o.suite.startsWith(`${n.suite}-`)).map((o) => o.version))].sort(newestFirst)[0];
      if (newest) {
        choice.install.push(`${n.name}=${newest}`);
        choice.notes.push(`${n.name}: ${newest} instead of the pinned ${n.want}, which the host's apt sources do not offer`);
        continue;
      }
    }
    const available = versions.length ? `the mirror offers ${versions.join(", ")}` : "the mirror offers no version of it";
    choice.vanished.push(`${n.name} ${n.want} is no longer on the mirror (${available}): set its "version" in ${pinsFile} to one of those (check with \`apt-cache policy ${n.name}\`)`);
  }
  return choice;
}
