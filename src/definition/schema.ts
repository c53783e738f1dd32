/**
 * The shape of an image definition (`images/<name>/image.ts`).
 * One zod schema gives both the TypeScript types (editor completion) and the
 * load-time validation (errors that name the file and the field).
 */
import { z } from "zod";

export const CATEGORIES = ["base", "tooling", "infrastructure", "home-and-media", "experimental"] as const;
export const SUPPORTED_PLATFORMS = ["linux/amd64", "linux/arm64"] as const;
export const DEFAULT_PLATFORMS = [...SUPPORTED_PLATFORMS];
/** Secrets kiln renders from the site settings and hands to builds (`RUN --mount=type=secret,id=...`). */
export const SITE_SECRET_IDS = ["apt.conf", "curlrc", "netrc", "ca.pem", "client.pem", "client.key", "keyring.gpg", "goproxy"] as const;

const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "lowercase letters, digits and dashes");
const platform = z.enum(SUPPORTED_PLATFORMS);
/** A catalog reference: `image` (its default target) or `image:target`. */
export const catalogRef = z.string().regex(/^[a-z0-9][a-z0-9-]*(:[a-z0-9][a-z0-9-]*)?$/, "a catalog image as `name` or `name:target`");

const outputs = z.strictObject({
  /** Repository names without registry, e.g. `kiln/debian`. Registries come from the settings. */
  names: z.array(z.string().regex(/^[a-z0-9._/-]+$/, "a repository name like `kiln/debian`")).min(1).optional(),
  /** Tags; `{snapshotDate}` (YYYY-MM-DD of the locked Debian snapshot) and `{version}` are filled in. */
  tags: z.array(z.string().regex(/^[A-Za-z0-9_.{}-]+$/, "a tag (letters, digits, `_.-`, `{placeholders}`)")).min(1).optional(),
});

const metadata = z.strictObject({
  title: z.string().optional(),
  description: z.string().optional(),
  authors: z.string().optional(),
  url: z.string().optional(),
  documentation: z.string().optional(),
  source: z.string().optional(),
  vendor: z.string().optional(),
  licenses: z.string().optional(),
});

const commandTest = z.strictObject({
  name: z.string(),
  /** Arguments appended to the image's entrypoint, or a full command when `entrypoint` is given. */
  command: z.array(z.string()),
  entrypoint: z.array(z.string()).optional(),
  exitCode: z.number().int().default(0),
  /** Each string must appear in stdout+stderr. */
  outputContains: z.array(z.string()).default([]),
});

const probe = z.strictObject({
  name: z.string(),
  kind: z.enum(["tcp", "http", "metrics"]),
  port: z.number().int().min(1).max(65535),
  path: z.string().default("/"),
  status: z.number().int().default(200),
  bodyContains: z.array(z.string()).default([]),
});

/** The alias the service under test answers to on a client scenario's network. */
export const SERVICE_ALIAS = "service";
/** The client image steps and fixtures run in unless they name another. */
export const DEFAULT_CLIENT = "tools:image";

/** An absolute path inside a container. */
const containerPath = z
  .string()
  .regex(/^\/[^,\n]*$/, "an absolute path inside the container (no commas)")
  .refine((p) => !p.split("/").includes(".."), "no `..` segments");
/** A path relative to the definition's folder that stays inside it (`test/htpasswd`, `test/certs/`). */
const definitionPath = z
  .string()
  .regex(/^[^/\n][^\n]*$/, "a path relative to the definition's folder")
  .refine((p) => !p.split("/").includes(".."), "no `..` segments: files come from the definition's folder");
/** Files and folders of the definition mounted read-only: container path -> path in the definition's folder. */
const mountedFiles = z.record(containerPath, definitionPath).default({});
const env = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name"), z.string()).default({});

/** When a fixture counts as ready: a TCP port accepts, a command exits 0 in it, or its HEALTHCHECK says healthy. */
const readiness = z
  .strictObject({
    port: z.number().int().min(1).max(65535).optional(),
    command: z.array(z.string()).min(1).optional(),
    healthy: z.literal(true).optional(),
    timeoutSeconds: z.number().positive().default(60),
  })
  .refine((r) => [r.port, r.command, r.healthy].filter((v) => v !== undefined).length === 1, "give exactly one of port, command, healthy");

/** An extra container on the scenario's network, reachable by its alias (the key it is declared under). */
const fixture = z.strictObject({
  /** A catalog image from the store, by digest; default: the scenario's client image. */
  image: catalogRef.optional(),
  /** Replaces the image's entrypoint (`[]` clears it). */
  entrypoint: z.array(z.string()).optional(),
  /** Replaces the image's command. */
  command: z.array(z.string()).optional(),
  env,
  files: mountedFiles,
  /** Default: the image's user. */
  user: z.string().optional(),
  /** Waited for before the service starts (or, for `after-service`, before the first step). */
  ready: readiness.optional(),
  /** Started before the service (default: the service's configuration may name it), or after it is healthy. */
  start: z.enum(["before-service", "after-service"]).default("before-service"),
});

/** Files kiln can mount read-only into a client step. */
export const CLIENT_MOUNTS = { store: "/kiln/store", test: "/kiln/test" } as const;

const clientStep = z.strictObject({
  name: z.string().min(1),
  /** The whole command line (the client image's entrypoint is not used). */
  command: z.array(z.string()).min(1).optional(),
  /** Judge the service container's log so far (`docker logs`: what it wrote since it last started) instead of a command. */
  serviceLog: z.boolean().default(false),
  /** Run inside a fixture (by alias) or the service (`docker exec`) instead of a new client container. */
  in: z.string().optional(),
  /** This step's client image; default: the scenario's. */
  client: catalogRef.optional(),
  env,
  /** Stop the service and start it again on the same volumes (waited healthy) before this step. */
  restart: z.boolean().default(false),
  /** Read-only mounts into the client: `store` (kiln's OCI store at /kiln/store), `test` (the definition's test/ at /kiln/test). */
  mount: z.array(z.enum(Object.keys(CLIENT_MOUNTS) as ["store", "test"])).default([]),
  /** Declared service volumes mounted read-only into the client at the same path (to inspect what the service wrote). */
  volumes: z.array(containerPath).default([]),
  exitCode: z.number().int().default(0),
  /** Each string must appear in stdout+stderr. */
  outputContains: z.array(z.string()).default([]),
  /** No string may appear in stdout+stderr. */
  outputExcludes: z.array(z.string()).default([]),
  timeoutSeconds: z.number().positive().default(120),
}).refine((st) => (st.command !== undefined) !== st.serviceLog, { path: ["command"], message: "give either command or serviceLog: true" });

const alias = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, "a host name: lowercase letters, digits and dashes")
  .refine((a) => a !== SERVICE_ALIAS, `"${SERVICE_ALIAS}" is the service's own alias`);

/**
 * A proof from a real client: the image under test runs hardened on a private
 * network with its fixtures, then the steps run in order.
 */
const clientScenario = z
  .strictObject({
    name: z.string().min(1),
    /** The image steps run in (and fixtures, unless they name one), from the store by digest. */
    client: catalogRef.default(DEFAULT_CLIENT),
    /** Extra environment for the service (on top of `runtime.env`). */
    env,
    /** Files mounted read-only into the service (secrets come from files, never env). */
    files: mountedFiles,
    fixtures: z.record(alias, fixture).default({}),
    /** The network reaches beyond the host (e.g. a cache's upstream mirror); by default it is internal to the scenario. */
    egress: z.boolean().default(false),
    steps: z.array(clientStep).min(1),
  })
  .superRefine((s, ctx) => {
    const known = [SERVICE_ALIAS, ...Object.keys(s.fixtures)];
    s.steps.forEach((step, i) => {
      if (s.steps.findIndex((o) => o.name === step.name) !== i) ctx.addIssue({ code: "custom", path: ["steps", i, "name"], message: `another step is already named "${step.name}"` });
      if (step.in !== undefined && !known.includes(step.in)) {
        ctx.addIssue({ code: "custom", path: ["steps", i, "in"], message: `unknown fixture "${step.in}"; known: ${known.join(", ")}` });
      }
      if (step.in !== undefined && (step.client !== undefined || step.mount.length || step.volumes.length)) {
        ctx.addIssue({ code: "custom", path: ["steps", i, "in"], message: "a step run inside a container takes no client, mount or volumes" });
      }
    });
  });

/**
 * What the image needs beyond the hardened profile, granted by `kiln test` exactly
 * (and nothing else), so its tests prove it needs no more; the image's README says why.
 */
const privileges = z.strictObject({
  /** `docker run --privileged`: every capability, devices, no seccomp or AppArmor profile, writable /sys and /proc. */
  privileged: z.boolean().default(false),
  /** Capabilities added back after `--cap-drop=ALL`, e.g. `SYS_ADMIN`. */
  capAdd: z.array(z.string().regex(/^[A-Z_]+$/, "a capability name like SYS_ADMIN")).default([]),
  /** `--security-opt` values beside `no-new-privileges`, e.g. `seccomp=unconfined`. */
  securityOpt: z.array(z.string().regex(/^(seccomp|apparmor|systempaths)=unconfined$/, "seccomp=unconfined, apparmor=unconfined or systempaths=unconfined")).default([]),
  /**
   * Namespaced sysctls set for the container (`--sysctl`), e.g. `net.ipv4.ip_unprivileged_port_start`
   * for a fixed low port without a capability. Only the network namespace's: they change nothing outside it.
   */
  sysctls: z.record(z.string().regex(/^net\.[a-z0-9_.]+$/, "a network namespace sysctl like net.ipv4.ip_unprivileged_port_start"), z.string().regex(/^[0-9A-Za-z_. -]+$/)).default({}),
  /** Why, in one line (shown by `kiln test`). */
  reason: z.string().min(1),
});

const runtime = z.strictObject({
  /** The user the image runs as (`2000`, `2000:2000`); never root. */
  user: z.string().default("2000"),
  ports: z.array(z.number().int().min(1).max(65535)).default([]),
  volumes: z.array(z.string().startsWith("/")).default([]),
  /** Environment for `kiln test` runs. */
  env: z.record(z.string(), z.string()).default({}),
  healthcheck: z.boolean().default(true),
  /** A port that serves Prometheus metrics, when the software has them. */
  metrics: z.strictObject({ port: z.number().int(), path: z.string().default("/metrics") }).optional(),
  tests: z.array(commandTest).default([]),
  probes: z.array(probe).default([]),
  /** Compressed size budget per platform, in MB. */
  sizeBudgetMB: z.number().positive().optional(),
  /** The final stage may run commands (only for images that cannot avoid it). */
  allowRunInFinalStage: z.boolean().default(false),
  /** The image is a tool image (builder, auditor): compilers and package managers are allowed. */
  tooling: z.boolean().default(false),
  /** Proofs from a real client (docs/checks.md, `client-test`). */
  clients: z.array(clientScenario).default([]),
  /** Privileges beyond the hardened profile (none by default). */
  privileges: privileges.optional(),
  /**
   * false: the service cannot start without what its client scenarios provide (a database
   * fixture), so `hardened-run`, `healthy` and the probes are judged on the first scenario's
   * service, once set up, instead of on a container of its own.
   */
  standalone: z.boolean().default(true),
}).superRefine((r, ctx) => {
  if (!r.standalone && r.clients.length === 0) ctx.addIssue({ code: "custom", path: ["standalone"], message: "false needs a client scenario (runtime.clients) that gives the service what it needs" });
  r.clients.forEach((s, i) => {
    if (r.clients.findIndex((o) => o.name === s.name) !== i) ctx.addIssue({ code: "custom", path: ["clients", i, "name"], message: `another scenario is already named "${s.name}"` });
    s.steps.forEach((step, j) => {
      for (const v of step.volumes) {
        if (!r.volumes.includes(v)) ctx.addIssue({ code: "custom", path: ["clients", i, "steps", j, "volumes"], message: `"${v}" is not one of runtime.volumes (${r.volumes.join(", ") || "none"})` });
      }
    });
  });
});

const target = z.strictObject({
  /** Dockerfile stage; defaults to the target's name. */
  stage: z.string().optional(),
  description: z.string().optional(),
  platforms: z.array(platform).min(1).optional(),
  outputs: outputs.optional(),
  buildArgs: z.record(z.string(), z.string()).optional(),
  runtime: runtime.optional(),
});

/** External inputs declared by a definition and pinned in its lock (see src/lock). */
const inputs = z.strictObject({
  /** Debian packages to lock, per name; versions and hashes live in the lock. */
  debian: z
    .strictObject({
      suite: z.string().default("bookworm"),
      /** `minbase` resolves the full minbase set of a rootfs; `packages` a list plus dependencies. */
      set: z.enum(["minbase", "packages"]).default("packages"),
      packages: z.array(z.string()).default([]),
      /** Architectures to install for besides the target one (cross toolchains). */
      foreignArchitectures: z.array(z.string()).default([]),
      /**
       * A parent (a key of `parents`, e.g. "base-runtime") whose packages, as its
       * deb-install manifests list them, count as installed: the lock then holds only
       * the closure the image adds on top, which `deb-install /dist` unpacks.
       */
      onTopOf: z.string().optional(),
      /**
       * Packages taken from another suite of the same archive (`{ trixie: ["golang-1.24-go"] }`),
       * resolved with the image's suite preferred: from that suite come the named packages and
       * the dependencies only it has (docs/debian.md, "Packages from another suite").
       */
      fromSuites: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, "a suite name like trixie"), z.array(z.string()).min(1)).default({}),
    })
    .optional(),
  git: z
    .record(
      z.string(),
      z.strictObject({ url: z.string(), ref: z.string() }),
    )
    .default({}),
  downloads: z
    .record(
      z.string(),
      z.strictObject({
        /** One URL, or one per platform (`linux/amd64` -> url). `{arch}` is replaced by the target architecture. */
        url: z.union([z.string(), z.partialRecord(platform, z.string())]),
        algorithm: z.enum(["sha256", "sha512"]).default("sha256"),
        signature: z.strictObject({ url: z.string(), fingerprint: z.string() }).optional(),
      }),
    )
    .default({}),
  /**
   * Debian source packages, per name: the .dsc and every file it lists are pinned,
   * and the build-dependencies as locked .debs (host tools for the build platform,
   * libraries for the target through multiarch), so the compile runs cross with no network.
   */
  debianSource: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "a lower-case name (letters, digits, dashes)"),
      z.strictObject({
        /** The source package's name, e.g. `hello`. */
        package: z.string(),
        /** An exact Debian version; default: the newest the suite publishes. */
        version: z.string().optional(),
        suite: z.string().default("bookworm"),
        /** Build profiles the build-dependencies are resolved with (as `dpkg-buildpackage -P` gets them), e.g. `nocheck`. */
        profiles: z.array(z.string()).default([]),
        /**
         * A parent (a key of `parents`, usually "base-builder") whose installed packages (its dpkg
         * status) the build starts from: the lock pins only what the build adds. The platforms
         * it is locked for are the build platforms.
         */
        onTopOf: z.string().optional(),
        /**
         * `build`: the build-dependencies are resolved for the build architecture alone and that
         * one set serves every target. For sources whose compile takes nothing of the target's
         * from Debian: Go built without cgo, whose golang-*-dev libraries are architecture `all`
         * but not `Multi-Arch: foreign`, so apt refuses them to a cross build-dep.
         * Default `target`: tools for the build architecture, libraries for the target.
         */
        buildDependsFor: z.enum(["target", "build"]).default("target"),
      }),
    )
    .default({}),
  /** Node programs, per name: a committed package-lock.json (relative to the definition's folder), every package with an sha512 integrity. */
  npm: z
    .record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "a lower-case name (letters, digits, dashes)"), z.strictObject({ lockfile: z.string() }))
    .default({}),
});

export const definitionSchema = z.strictObject({
  name,
  category: z.enum(CATEGORIES),
  description: z.string().min(1),
  /** Dockerfile path relative to the definition's folder. */
  dockerfile: z.string().default("Dockerfile"),
  /** Build context folder relative to the definition's folder. */
  context: z.string().default("."),
  platforms: z.array(platform).min(1).default(DEFAULT_PLATFORMS),
  targets: z.record(name, target).default({ image: {} }),
  /** Target built when none is named. */
  defaultTarget: z.string().optional(),
  buildArgs: z.record(z.string(), z.string()).default({}),
  /** Site secrets the Dockerfile mounts (`RUN --mount=type=secret,id=apt.conf`). */
  secrets: z.array(z.enum(SITE_SECRET_IDS)).default([]),
  /** Named build contexts fed from catalog images by digest: `{ debian: "debian" }` -> `FROM debian`. */
  parents: z.record(z.string(), catalogRef).default({}),
  outputs: outputs.default({}),
  metadata: metadata.default({}),
  runtime: runtime.default(runtime.parse({})),
  inputs: inputs.default(inputs.parse({})),
  /** Fixed SOURCE_DATE_EPOCH when no lock provides one. */
  sourceDateEpoch: z.number().int().nonnegative().optional(),
});

/** What an author writes (defaults optional). */
export type ImageDefinitionInput = z.input<typeof definitionSchema>;
/** What kiln works with (defaults filled in). */
export type ImageDefinition = z.output<typeof definitionSchema>;
export type TargetDefinition = z.output<typeof target>;
export type RuntimeExpectations = z.output<typeof runtime>;
export type ClientScenario = z.output<typeof clientScenario>;
export type ClientStep = z.output<typeof clientStep>;
export type ClientFixture = z.output<typeof fixture>;
export type FixtureReadiness = z.output<typeof readiness>;
export type Category = (typeof CATEGORIES)[number];
export type Platform = (typeof SUPPORTED_PLATFORMS)[number];
export type SiteSecretId = (typeof SITE_SECRET_IDS)[number];

/**
 * Typed identity helper for `image.ts` files: gives editor completion and
 * marks the object so the loader can tell a definition from anything else.
 */
export function defineImage(def: ImageDefinitionInput): ImageDefinitionInput {
  return def;
}
