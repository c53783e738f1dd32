/**
 * A BuildPlan is pure data: everything one engine invocation needs, with no
 * temporary paths or timestamps in it, so `kiln plan` prints it byte for byte
 * the same for the same inputs. Drivers turn it into argv (src/engine/).
 */
import type { Platform, SiteSecretId } from "../definition/schema.ts";

/** Placeholders a driver substitutes when it runs; `kiln plan` prints them as-is. */
export const SECRETS_DIR = "<secrets>";
export const EXPORT_DIR = "<export>";

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
  /** name -> `oci-layout://<store>@sha256:<index digest>` */
  namedContexts: Record<string, { layout: string; digest: string }>;
  addHosts: string[];
  noCache: boolean;
  cacheFrom: string[];
  cacheTo: string[];
  /** Extra outputs besides the store export (user --output). */
  outputs: PlanOutput[];
  /** Full image references to publish after the build. */
  push: string[];
  load: string[];
  /** Files kiln prepares in the context before the engine runs (generated Debian repos, verified downloads). */
  prepare: { kind: string; description: string }[];
}

export interface EngineTarget {
  driver: "buildx" | "buildctl";
  builder?: string;
  buildkitHost?: string;
  tls: { ca?: string; cert?: string; key?: string; serverName?: string };
}
