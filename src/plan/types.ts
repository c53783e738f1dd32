/**
 * A BuildPlan is pure data: everything one engine invocation needs, with no
 * temporary paths or timestamps in it, so `kiln plan` prints it byte for byte
 * the same for the same inputs. Drivers turn it into argv (src/engine/).
 */
import type { Platform, SiteSecretId } from "../definition/schema.ts";

/** Placeholders a driver substitutes when it runs; `kiln plan` prints them as-is. */
export const SECRETS_DIR = "<secrets>";
export const EXPORT_DIR = "<export>";
/** Folder of contexts kiln prepares before the engine runs (locked debs, checkouts, downloads, rootfs). */
export const WORK_DIR = "<work>";

export interface PlanSecret {
  id: SiteSecretId | string;
  /** File under SECRETS_DIR (rendered from settings) or an absolute path (extra secrets). */
  src: string;
}

export interface PlanOutput {
  type: "oci" | "oci-dir" | "local" | "tar";
  dest: string;
}

export interface BuildPlan {
  /** `debian:image` */
  ref: string;
  image: string;
  target: string;
  /** Dockerfile stage (--target). */
  stage?: string;
  contextDir: string;
  dockerfile: string;
  platforms: Platform[];
  sourceDateEpoch: number;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  secrets: PlanSecret[];
  /** Parents: name -> `oci-layout://<layout>@<digest>`; prepared inputs: name -> a folder under WORK_DIR. */
  namedContexts: Record<string, { layout: string; digest: string } | { dir: string }>;
  addHosts: string[];
  noCache: boolean;
  cacheFrom: string[];
  cacheTo: string[];
  /** Extra outputs besides the store export (user --output). */
  outputs: PlanOutput[];
  /** Full image references to publish after the build. */
  push: string[];
  load: string[];
  /** Inputs kiln prepares before the engine runs, from the lock (kinds: debian, git, download). */
  prepare: string[];
}

export interface EngineTarget {
  driver: "buildx" | "buildctl";
  builder?: string;
  buildkitHost?: string;
  /** The buildctl program (buildctl driver). */
  buildctl?: string;
  tls: { ca?: string; cert?: string; key?: string; serverName?: string };
}
