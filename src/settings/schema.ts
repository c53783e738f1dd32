/**
 * Site settings: what differs per user, site or CI, never per image.
 * Layered: definition defaults < site config file < environment < command line.
 * Everything that could be private (proxies, credentials, CA, keys) reaches
 * builds only as BuildKit secrets, never as build args.
 */
import { z } from "zod";

const fileOrInline = z.string().describe("a file path, or PEM/ASCII-armoured text inline");

export const settingsSchema = z.strictObject({
  engine: z
    .strictObject({
      /** `auto` picks buildctl when BUILDKIT_HOST is set, else buildx. */
      driver: z.enum(["auto", "buildx", "buildctl"]).default("auto"),
      /** buildx builder name (default: the current one). */
      builder: z.string().optional(),
      /** buildctl address, e.g. tcp://buildkitd:1234 (BUILDKIT_HOST). */
      buildkitHost: z.string().optional(),
      tls: z
        .strictObject({
          ca: z.string().optional(),
          cert: z.string().optional(),
          key: z.string().optional(),
          serverName: z.string().optional(),
        })
        .default({}),
    })
    .default({ driver: "auto", tls: {} }),
  /** Registries (with optional namespace) to push to: `registry.example.com/me`. */
  registries: z.array(z.string()).default([]),
  /** Registries reached over plain HTTP or with a self-signed certificate. */
  insecureRegistries: z.array(z.string()).default(["127.0.0.1:5000", "localhost:5000"]),
  /** host -> IP, passed as --add-host to builds. */
  hosts: z.record(z.string(), z.string()).default({}),
  /** Extra CA certificate trusted by fetches in builds. */
  ca: fileOrInline.optional(),
  /** Client certificate and key for fetches in builds (mutual TLS). */
  clientCert: fileOrInline.optional(),
  clientKey: fileOrInline.optional(),
  /** Extra GPG keyring (file) for apt inside builds. */
  keyring: z.string().optional(),
  /** Per-host credentials: for registries (push) and for fetches in builds (netrc). */
  credentials: z.record(z.string(), z.strictObject({ username: z.string(), password: z.string() })).default({}),
  cache: z
    .strictObject({
      /** --cache-from refs, e.g. type=registry,ref=reg/cache:debian */
      from: z.array(z.string()).default([]),
      to: z.array(z.string()).default([]),
    })
    .default({ from: [], to: [] }),
  apt: z
    .strictObject({
      /** Mirror(s) .debs and indices are fetched from, in order (fallbacks after the first). */
      mirrors: z.array(z.string().url()).default(["http://deb.debian.org/debian"]),
      securityMirrors: z.array(z.string().url()).default(["http://deb.debian.org/debian-security"]),
      proxy: z.string().optional(),
      userAgent: z.string().optional(),
      checkValidUntil: z.boolean().default(true),
    })
    .default({ mirrors: ["http://deb.debian.org/debian"], securityMirrors: ["http://deb.debian.org/debian-security"], checkValidUntil: true }),
  curl: z.strictObject({ proxy: z.string().optional(), userAgent: z.string().optional() }).default({}),
  go: z.strictObject({ proxy: z.string().optional() }).default({}),
  /** Extra secrets handed to builds as-is: id -> file path. */
  secrets: z.record(z.string(), z.string()).default({}),
  /** Where the local OCI store and the download cache live (XDG defaults). */
  store: z.string().optional(),
  cacheDir: z.string().optional(),
  /** Refuse any network fetch; use only the cache. */
  offline: z.boolean().default(false),
});

export type Settings = z.output<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

/** Environment variables read into settings, and the key each one sets. */
export const ENVIRONMENT_KEYS: Record<string, string> = {
  BUILDKIT_HOST: "engine.buildkitHost",
  KILN_DRIVER: "engine.driver",
  KILN_BUILDER: "engine.builder",
  KILN_STORE: "store",
  KILN_CACHE_DIR: "cacheDir",
  KILN_OFFLINE: "offline",
  GOPROXY: "go.proxy",
};
