import { describe, expect, it } from "vitest";
import { definitionSchema } from "../definition/schema.ts";
import type { LayerEntry } from "../oci/layers.ts";
import type { OciManifest } from "../oci/store.ts";
import { checkPolicy, REQUIRED_LABELS } from "./policy.ts";
import { checkPrometheusText } from "./probes.ts";
import { formatResults, junitXml, type CheckResult } from "./results.ts";
import { plannedProbes } from "./test-image.ts";

const runtime = (r: Record<string, unknown> = {}) => definitionSchema.parse({ name: "x", category: "base", description: "d", runtime: r }).runtime;
const file = (path: string, mode = 0o644, type: LayerEntry["type"] = "file"): [string, LayerEntry] => [path, { path, type, mode, uid: 0, gid: 0, mtime: 0, size: 1 }];
const labels = Object.fromEntries(REQUIRED_LABELS.map((l) => [l, "x"]));
const manifest = (sizes: number[]): OciManifest => ({
  schemaVersion: 2,
  config: { mediaType: "c", digest: "sha256:c", size: 1000 },
  layers: sizes.map((size, i) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${i}`, size })),
});
const verdicts = (checks: { rule: string; ok: boolean }[]) => Object.fromEntries(checks.map((c) => [c.rule, c.ok]));

describe("static policy", () => {
  const healthy = { User: "2000", Labels: labels, Healthcheck: { Test: ["CMD", "/x"] } };

  it("passes a clean image", () => {
    const checks = checkPolicy({ config: { config: healthy }, manifest: manifest([1_000_000]), files: new Map([file("bin/app", 0o755)]), runtime: runtime({ sizeBudgetMB: 2 }) });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.rule)).toEqual(["user-not-root", "no-setuid", "no-compilers", "no-package-caches", "healthcheck-declared", "oci-labels", "size-budget"]);
  });

  it("names each broken rule", () => {
    const files = new Map([
      file("usr/bin/passwd", 0o4755),
      file("usr/bin/wall", 0o2755),
      file("usr/bin/x86_64-linux-gnu-gcc-12", 0o755),
      file("usr/lib/go-1.19/bin/go", 0o755),
      file("usr/bin/cc", 0o777, "symlink"),
      file("usr/share/doc/gcc", 0o644),
      file("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease"),
      file("var/lib/apt/lists/lock"),
      file("var/cache/apt/pkgcache.bin"),
    ]);
    const checks = checkPolicy({ config: { config: { User: "0:0", Labels: { "org.opencontainers.image.title": "t" } } }, manifest: manifest([2_000_000, 600_000]), files, runtime: runtime({ sizeBudgetMB: 2 }) });
    expect(verdicts(checks)).toEqual({ "user-not-root": false, "no-setuid": false, "no-compilers": false, "no-package-caches": false, "healthcheck-declared": false, "oci-labels": false, "size-budget": false });
    const byRule = Object.fromEntries(checks.map((c) => [c.rule, c]));
    expect(byRule["no-setuid"]!.details).toEqual(["/usr/bin/passwd (04755)", "/usr/bin/wall (02755)"]);
    expect(byRule["no-compilers"]!.details).toEqual(["/usr/bin/x86_64-linux-gnu-gcc-12", "/usr/lib/go-1.19/bin/go", "/usr/bin/cc"]);
    expect(byRule["no-package-caches"]!.details).toEqual(["/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", "/var/cache/apt/pkgcache.bin"]);
    expect(byRule["oci-labels"]!.message).toBe("missing labels: created, revision, version, description, licenses");
    expect(byRule["size-budget"]!.message).toBe("2.6 MB compressed exceeds the budget of 2 MB");
    expect(byRule["user-not-root"]!.message).toBe("the image runs as 0:0");
  });

  it("treats an empty user as root and lets tool images keep compilers, caches and a declared root user", () => {
    expect(verdicts(checkPolicy({ config: { config: { ...healthy, User: "" } }, manifest: manifest([1]), files: new Map(), runtime: runtime() }))["user-not-root"]).toBe(false);
    const tool = checkPolicy({ config: { config: { User: "root", Labels: labels } }, manifest: manifest([1]), files: new Map([file("usr/bin/gcc", 0o755)]), runtime: runtime({ tooling: true, user: "0" }) });
    expect(tool.map((c) => [c.rule, c.ok])).toEqual([["user-not-root", true], ["no-setuid", true], ["oci-labels", true], ["size-budget", true]]);
  });
});

describe("Prometheus text format", () => {
  it("accepts HELP, TYPE, labels, special values and timestamps", () => {
    const text = '# HELP up Whether up.\n# TYPE up gauge\nup 1\nreq_total{method="GET",path="/a\\"b"} 3 1700000000000\nlat_bucket{le="+Inf"} 2\nx NaN\n# a comment\n';
    expect(checkPrometheusText(text)).toEqual({ ok: true, samples: 4, families: 4 });
  });

  it("rejects HTML, bad TYPE lines and empty bodies", () => {
    expect(checkPrometheusText("<html>hi</html>\n")).toEqual({ ok: false, error: 'line 1: not "name{labels} value": <html>hi</html>' });
    expect(checkPrometheusText("# TYPE up thing\nup 1\n")).toMatchObject({ ok: false, error: expect.stringMatching(/^line 1: malformed TYPE/) });
    expect(checkPrometheusText("# HELP up x\n")).toEqual({ ok: false, error: "no samples" });
    expect(checkPrometheusText('up{a="1" 1\n')).toMatchObject({ ok: false });
  });
});

describe("probes and reports", () => {
  it("adds the metrics endpoint and a TCP probe for every unprobed port", () => {
    const r = runtime({ ports: [80, 9100, 53], metrics: { port: 9100 }, probes: [{ name: "web", kind: "http", port: 80 }] });
    expect(plannedProbes(r).map((p) => `${p.kind}:${p.port}${p.kind === "tcp" ? "" : p.path}`)).toEqual(["http:80/", "metrics:9100/metrics", "tcp:53"]);
  });

  it("prints a line per check and writes JUnit XML naming failed rules", () => {
    const results: CheckResult[] = [
      { rule: "no-setuid", name: "no-setuid", subject: "a:image linux/amd64", ok: false, message: "1 setuid/setgid file", details: ["/bin/su (04755)"], durationMs: 5 },
      { rule: "command-test", name: "echo <ok>", subject: "a:image linux/amd64", ok: true, message: "exit 0", durationMs: 1500 },
    ];
    expect(formatResults(results)).toBe(
      "a:image linux/amd64\n  ✗ no-setuid: 1 setuid/setgid file\n      /bin/su (04755)\n  ✓ command-test echo <ok>: exit 0\nFAILED 1 of 2 checks: a:image linux/amd64 no-setuid\n",
    );
    const xml = junitXml(results);
    expect(xml).toContain('<testsuite name="a:image linux/amd64" tests="2" failures="1" errors="0" time="1.505">');
    expect(xml).toContain('<failure message="1 setuid/setgid file" type="no-setuid">1 setuid/setgid file\n/bin/su (04755)</failure>');
    expect(xml).toContain('<testcase classname="a:image linux/amd64" name="command-test: echo &lt;ok&gt;" time="1.500"/>');
  });
});
