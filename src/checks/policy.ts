/**
 * Static policy: what an image must be before it is ever started, read from
 * its config and the file system its layers make. Each check is a rule id
 * (docs/checks.md) with a one-line verdict.
 */
import type { RuntimeExpectations } from "../definition/schema.ts";
import type { ImageConfig } from "../oci/diff.ts";
import { SETGID, SETUID, type LayerEntry } from "../oci/layers.ts";
import type { OciManifest } from "../oci/store.ts";

/**
 * Labels every catalog image carries: the build derives them from the git
 * checkout (created, revision, version), the LICENSE file and the definition.
 * `source` is not required: a checkout may have no public remote.
 */
export const REQUIRED_LABELS = [
  "org.opencontainers.image.created",
  "org.opencontainers.image.revision",
  "org.opencontainers.image.version",
  "org.opencontainers.image.title",
  "org.opencontainers.image.description",
  "org.opencontainers.image.licenses",
] as const;

/** Compiler driver names, also as `gcc-12` or `x86_64-linux-gnu-gcc-12`. */
const COMPILER = /^(?:[a-z0-9_]+-linux-gnu(?:eabihf)?-)?(gcc|cc|g\+\+|c\+\+|clang|clang\+\+|go|gofmt|rustc|cargo)(?:-[0-9.]+)?$/;
const BIN_DIR = /(^|\/)(s?bin)$/;

export interface PolicyCheck {
  rule: string;
  ok: boolean;
  message: string;
  details?: string[];
}

export interface PolicyInput {
  config: ImageConfig;
  manifest: OciManifest;
  /** The squashed root file system. */
  files: Map<string, LayerEntry>;
  runtime: RuntimeExpectations;
}

const MAX_LISTED = 10;
const list = (items: string[]) => [...items.slice(0, MAX_LISTED), ...(items.length > MAX_LISTED ? [`... and ${items.length - MAX_LISTED} more`] : [])];

export function isRootUser(user: string | undefined): boolean {
  const name = (user ?? "").split(":")[0]!.trim();
  return name === "" || name === "root" || name === "0";
}

export function checkPolicy(input: PolicyInput): PolicyCheck[] {
  const { config, manifest, files, runtime } = input;
  const out: PolicyCheck[] = [];
  const user = config.config?.User ?? "";
  out.push(
    runtime.tooling && isRootUser(runtime.user) && isRootUser(user)
      ? { rule: "user-not-root", ok: true, message: `runs as ${user || "root"}, as declared for a tool image (runtime.user ${runtime.user})` }
      : isRootUser(user)
      ? { rule: "user-not-root", ok: false, message: user ? `the image runs as ${user}` : "the image sets no user: it runs as root", details: ["set USER in the final stage (e.g. USER 2000)"] }
      : { rule: "user-not-root", ok: true, message: `runs as ${user}` },
  );

  const privileged = [...files.values()].filter((e) => e.type === "file" && e.mode & (SETUID | SETGID));
  out.push(
    privileged.length
      ? { rule: "no-setuid", ok: false, message: `${privileged.length} setuid/setgid file${privileged.length === 1 ? "" : "s"}`, details: list(privileged.map((e) => `/${e.path} (0${e.mode.toString(8)})`)) }
      : { rule: "no-setuid", ok: true, message: "no setuid or setgid files" },
  );

  if (!runtime.tooling) {
    const compilers = [...files.values()].filter((e) => e.type !== "dir" && COMPILER.test(e.path.split("/").pop()!) && BIN_DIR.test(e.path.slice(0, e.path.lastIndexOf("/"))));
    out.push(
      compilers.length
        ? { rule: "no-compilers", ok: false, message: `compilers in a runtime image: ${compilers.map((e) => `/${e.path}`).slice(0, 3).join(", ")}`, details: list(compilers.map((e) => `/${e.path}`)) }
        : { rule: "no-compilers", ok: true, message: "no compilers" },
    );
    const caches = [...files.values()].filter(
      (e) => e.type !== "dir" && ((e.path.startsWith("var/lib/apt/lists/") && e.path !== "var/lib/apt/lists/lock") || /^var\/cache\/apt\/[^/]+\.bin$/.test(e.path)),
    );
    out.push(
      caches.length
        ? { rule: "no-package-caches", ok: false, message: `${caches.length} apt list/cache file${caches.length === 1 ? "" : "s"} left in the image`, details: list(caches.map((e) => `/${e.path}`)) }
        : { rule: "no-package-caches", ok: true, message: "no apt lists or caches" },
    );
  }

  if (runtime.healthcheck && !runtime.tooling) {
    const test = config.config?.Healthcheck?.Test;
    const declared = !!test?.length && test[0] !== "NONE";
    out.push(
      declared
        ? { rule: "healthcheck-declared", ok: true, message: `HEALTHCHECK ${test!.slice(1).join(" ")}` }
        : { rule: "healthcheck-declared", ok: false, message: "the image declares no HEALTHCHECK", details: ["add HEALTHCHECK to the final stage, or set runtime.healthcheck: false"] },
    );
  }

  const labels = config.config?.Labels ?? {};
  const missing = REQUIRED_LABELS.filter((l) => !labels[l]?.trim());
  out.push(
    missing.length
      ? { rule: "oci-labels", ok: false, message: `missing label${missing.length === 1 ? "" : "s"}: ${missing.map((l) => l.replace("org.opencontainers.image.", "")).join(", ")}`, details: missing.map((l) => l) }
      : { rule: "oci-labels", ok: true, message: `${REQUIRED_LABELS.length} OCI labels present` },
  );

  const bytes = manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
  const mb = bytes / 1_000_000;
  const budget = runtime.sizeBudgetMB;
  out.push(
    budget === undefined
      ? { rule: "size-budget", ok: true, message: `${mb.toFixed(1)} MB compressed (no budget declared)` }
      : mb <= budget
        ? { rule: "size-budget", ok: true, message: `${mb.toFixed(1)} MB compressed, budget ${budget} MB` }
        : { rule: "size-budget", ok: false, message: `${mb.toFixed(1)} MB compressed exceeds the budget of ${budget} MB` },
  );
  return out;
}
