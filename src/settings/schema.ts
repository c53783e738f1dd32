/**
 * Site settings: what differs per user, site or CI, never per image.
 * Layered: schema defaults < site config file < environment < command line
 * (see load.ts). Everything that could be private (proxies, credentials, CA,
 * keys) reaches builds only as BuildKit secrets, never as build args.
 * Every key carries a `.describe()` text: `kiln` shows it in errors and
 * docs/settings.md is checked against it.
 */
import { z } from "zod";

const fileOrInline = z.string().describe("a file path, or PEM/ASCII-armoured text inline");

/** Key references cosign resolves itself (its KMS providers); anything else is a key file. */
export const KMS_SCHEMES = ["awskms://", "gcpkms://", "azurekms://", "hashivault://", "k8s://", "pkcs11:"] as const;

/** A URI (scheme://... or pkcs11:...), as opposed to a file path. */
export function isUri(value: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value) || value.startsWith("pkcs11:");
}

export function isKmsUri(value: string): boolean {
  return KMS_SCHEMES.some((s) => value.startsWith(s));
}

const signingKey = z
  .string()
  .min(1)
  .refine((v) => !isUri(v) || isKmsUri(v), { message: `expects a key file or a KMS URI cosign knows (${KMS_SCHEMES.join(", ")})` })
  .optional();

const absoluteFile = z.string().refine((v) => v.startsWith("/"), { message: "expects an absolute file path" });

/** One buildkitd a multi-node builder reaches (buildx's remote driver). */
const buildkitNode = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "a node name: lowercase letters, digits, - and _"),
  endpoint: z.string().regex(/^(tcp|unix):\/\/./, "a buildkitd address: tcp://HOST:PORT or unix:///PATH"),
  platforms: z.array(z.string().regex(/^linux\/[a-z0-9]+(\/v\d)?$/, "a platform like linux/arm64")).min(1),
  tls: z
    .strictObject({ ca: absoluteFile.optional(), cert: absoluteFile.optional(), key: absoluteFile.optional(), serverName: z.string().optional() })
    .default({}),
});

export const settingsSchema = z.strictObject({
  engine: z
    .strictObject({
      driver: z
        .enum(["auto", "buildx", "buildctl"])
        .default("auto")
        .describe("Engine driver; `auto` picks buildctl when engine.buildkitHost is set, else buildx"),
      builder: z.string().optional().describe("buildx builder name (default: the current one)"),
      buildkitHost: z.string().optional().describe("buildctl address, e.g. tcp://buildkitd:1234"),
      buildctl: z
        .string()
        .default("buildctl")
        .describe("The buildctl client the buildctl driver runs (default: buildctl on PATH; `kiln engine setup --buildkit` extracts one from the buildkit image)"),
      tls: z
        .strictObject({
          ca: z.string().optional().describe("CA certificate file that signed the buildkitd server certificate"),
          cert: z.string().optional().describe("Client certificate file for buildkitd (mutual TLS)"),
          key: z.string().optional().describe("Client key file for buildkitd (mutual TLS)"),
          serverName: z.string().optional().describe("Server name expected in the buildkitd certificate"),
        })
        .default({})
        .describe("TLS client settings for a remote buildkitd (buildctl driver)"),
      nodes: z
        .array(buildkitNode)
        .default([])
        .describe("buildkitd nodes that `kiln engine setup --nodes` joins into one buildx builder (remote driver), named by engine.builder (default kiln-nodes); each node builds the platforms it lists"),
      busyTimeout: z
        .number()
        .min(0)
        .default(300)
        .describe("Seconds to wait for an engine that accepts connections but does not answer (busy) before giving up; 0: do not wait"),
    })
    .default({ driver: "auto", buildctl: "buildctl", tls: {}, nodes: [], busyTimeout: 300 })
    .describe("Which BuildKit engine runs builds and how to reach it"),
  registries: z
    .array(z.string())
    .default([])
    .describe("Registries (with optional namespace) to push to, e.g. registry.example.com/me"),
  insecureRegistries: z
    .array(z.string())
    .default(["127.0.0.1:5000", "localhost:5000"])
    .describe("Registries reached over plain HTTP or with a self-signed certificate"),
  hosts: z
    .record(z.string(), z.string())
    .default({})
    .describe("host -> IP overrides, passed as --add-host to builds"),
  ca: fileOrInline.optional().describe("Extra CA certificate trusted by fetches in builds (file path or inline PEM)"),
  clientCert: fileOrInline.optional().describe("Client certificate for fetches in builds, mutual TLS (file path or inline PEM)"),
  clientKey: fileOrInline.optional().describe("Client key for fetches in builds, mutual TLS (file path or inline PEM)"),
  keyring: z.string().optional().describe("Extra GPG keyring file for apt inside builds"),
  credentials: z
    .record(
      z.string(),
      z.strictObject({
        username: z.string().describe("User name for this host"),
        password: z.string().describe("Password or token for this host"),
      }),
    )
    .default({})
    .describe("Per-host credentials: for registries (push) and for fetches in builds (netrc)"),
  cache: z
    .strictObject({
      from: z.array(z.string()).default([]).describe("--cache-from refs, e.g. type=registry,ref=reg/cache:debian"),
      to: z.array(z.string()).default([]).describe("--cache-to refs, e.g. type=registry,ref=reg/cache:debian,mode=max"),
    })
    .default({ from: [], to: [] })
    .describe("BuildKit cache import/export"),
  apt: z
    .strictObject({
      mirrors: z
        .array(z.string().url())
        .default(["http://deb.debian.org/debian"])
        .describe("Mirrors .debs and indices are fetched from, in order (fallbacks after the first)"),
      securityMirrors: z
        .array(z.string().url())
        .default(["http://deb.debian.org/debian-security"])
        .describe("Mirrors for the security suites, in order"),
      proxy: z.string().optional().describe("HTTP(S) proxy for apt inside builds and for kiln's own Debian downloads"),
      userAgent: z.string().optional().describe("User-Agent for apt inside builds and for kiln's own Debian downloads"),
      checkValidUntil: z.boolean().default(true).describe("Reject expired Release files (apt inside builds and kiln's own index checks)"),
      archiveKeyring: z
        .strictObject({
          file: absoluteFile.describe("The gpg keyring file"),
          sha256: z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex sha256").describe("Its sha256: kiln refuses the file when it differs"),
        })
        .optional()
        .describe("The keyring kiln checks InRelease signatures with, for a site's own archive, pinned by sha256 (default: the debian-archive-keyring package kiln pins, never the host's keyrings)"),
    })
    .default({ mirrors: ["http://deb.debian.org/debian"], securityMirrors: ["http://deb.debian.org/debian-security"], checkValidUntil: true })
    .describe("apt inside builds and kiln's own Debian fetches"),
  curl: z
    .strictObject({
      proxy: z.string().optional().describe("Proxy for curl inside builds"),
      userAgent: z.string().optional().describe("User-Agent curl sends inside builds"),
    })
    .default({})
    .describe("curl inside builds (rendered as a .curlrc secret)"),
  go: z
    .strictObject({ proxy: z.string().optional().describe("GOPROXY for Go builds (rendered as the goproxy secret)") })
    .default({})
    .describe("Go toolchain inside builds"),
  git: z
    .strictObject({
      insteadOf: z
        .record(z.string(), z.array(z.string()))
        .default({})
        .describe("URL rewrites for git sources, like git's url.<base>.insteadOf: base -> the URL prefixes fetched from that base instead (the longest matching prefix wins); locks keep the upstream URL"),
    })
    .default({ insteadOf: {} })
    .describe("How kiln fetches git sources"),
  secrets: z
    .record(z.string(), z.string())
    .default({})
    .describe("Extra secrets handed to builds as-is: id -> file path"),
  rebuild: z
    .strictObject({
      trustedCatalogs: z
        .array(z.string().min(1).refine((v) => !v.startsWith("-"), { message: "a URL prefix, not an option" }))
        .default([])
        .describe(
          "Catalog URL prefixes `kiln rebuild` may clone and run from what an image's lock attachment says, without --catalog and without a signature by the site's key (whole path segments: https://git.example/kiln covers https://git.example/kiln/...)",
        ),
    })
    .default({ trustedCatalogs: [] })
    .describe("`kiln rebuild`: which catalogs it trusts (docs/supply-chain.md)"),
  signing: z
    .strictObject({
      key: signingKey.describe(
        "Private key `kiln sign` signs with: a cosign key file (`cosign generate-key-pair`), or a KMS URI handed to cosign as-is (awskms://, gcpkms://, azurekms://, hashivault://, k8s://, pkcs11:)",
      ),
      passwordFile: z
        .string()
        .min(1)
        .optional()
        .describe("File holding the password of a signing.key file (one trailing line break is dropped); the password is never taken from the command line or the environment"),
      publicKey: signingKey.describe("Public key `kiln verify-signature` checks against: a cosign .pub file or a KMS URI (default: signing.key when it is a KMS URI)"),
    })
    .default({})
    .describe("Image signatures with cosign (`kiln sign`, `kiln verify-signature`)"),
  store: z.string().optional().describe("Local OCI store directory (default $XDG_DATA_HOME/kiln/store)"),
  cacheDir: z.string().optional().describe("Download cache directory (default $XDG_CACHE_HOME/kiln)"),
  offline: z.boolean().default(false).describe("Refuse any network fetch; use only the cache"),
});

export type Settings = z.output<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

/** Environment variables read into settings, and the key each one sets. */
export const ENVIRONMENT_KEYS: Record<string, string> = {
  BUILDKIT_HOST: "engine.buildkitHost",
  KILN_DRIVER: "engine.driver",
  KILN_BUILDER: "engine.builder",
  KILN_BUILDCTL: "engine.buildctl",
  KILN_TLS_CA: "engine.tls.ca",
  KILN_TLS_CERT: "engine.tls.cert",
  KILN_TLS_KEY: "engine.tls.key",
  KILN_BUSY_TIMEOUT: "engine.busyTimeout",
  KILN_STORE: "store",
  KILN_CACHE_DIR: "cacheDir",
  KILN_OFFLINE: "offline",
  KILN_REGISTRIES: "registries",
  GOPROXY: "go.proxy",
};
