/**
 * `kiln site` end to end: a tiny two-image catalog (busybox FROM scratch, and
 * a child adding a data file) built three times with other data, tested,
 * then the site written twice (same files), linted, and opened in headless
 * Chromium (Debian's, at its pinned version) from file://: every image with
 * its store digest on the index, the run line and one plot point per recorded
 * build on the image pages, no request but file: and data:, no CSP report.
 * Screenshots go to test-results/site/.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lintHtml } from "../support/html-lint.ts";
import { staticBusybox } from "../support/busybox.ts";
import { kiln, mustRun, REPO, tempEnv } from "./helpers.ts";

const SHOTS = path.join(REPO, "test-results", "site");
const CHROMIUM = "/usr/bin/chromium";
const NO_TRACE = /internal error|\n\s+at /;

let dir: string;
let env: NodeJS.ProcessEnv;
let catalog: string;
let browser: Browser;

async function kilnOk(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await kiln(args, { ...env, ...extra });
  expect(r.code, `kiln ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

async function files(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await fs.readdir(root, { recursive: true })).sort()) {
    const p = path.join(root, f);
    if ((await fs.stat(p)).isFile()) out[f] = await fs.readFile(p, "utf8");
  }
  return out;
}

/** The store's index digest per catalog ref. */
async function storeDigests(store: string): Promise<Record<string, string>> {
  const index = JSON.parse(await fs.readFile(path.join(store, "index.json"), "utf8")) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  // Attached artifacts (the lock) are listed without a ref name: not images.
  return Object.fromEntries(index.manifests.filter((m) => m.annotations?.["org.opencontainers.image.ref.name"]).map((m) => [m.annotations!["org.opencontainers.image.ref.name"]!, m.digest]));
}

beforeAll(async () => {
  ({ dir, env } = await tempEnv("site"));
  catalog = path.join(dir, "catalog");
  await fs.cp(path.join(REPO, "test/fixtures/site"), catalog, { recursive: true });
  await fs.copyFile(await staticBusybox(), path.join(catalog, "images/base/busybox"));
  const git = (...args: string[]) => mustRun("git", ["-C", catalog, "-c", "user.email=kiln@example.invalid", "-c", "user.name=kiln", ...args]);
  await git("init", "-q");
  await git("add", "-A");
  await git("commit", "-q", "-m", "fixtures");
  env = { ...env, KILN_CATALOG: catalog };
  // Three builds of app (base once): each with data of another size, so each is a point of its own.
  for (const kb of [4, 40, 16]) {
    await fs.writeFile(path.join(catalog, "images/app/data.txt"), randomBytes(kb * 512).toString("hex"));
    await kilnOk(["build", "--all", "--progress", "plain"]);
  }
  await kiln(["test", "base", "--platform", "linux/amd64"], env);
  await kiln(["test", "app", "--static-only"], env);
  await fs.mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});

afterAll(async () => {
  await browser?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe("kiln site", () => {
  it("runs Debian's chromium at the version hack/engine/packages.json pins or a later security update", async () => {
    const pins = JSON.parse(await fs.readFile(path.join(REPO, "hack/engine/packages.json"), "utf8")) as { packages: { name: string; version: string }[] };
    const pinned = pins.packages.find((p) => p.name === "chromium")!.version;
    const installed = (await mustRun("dpkg-query", ["-W", "-f", "${Version}", "chromium"])).trim();
    // dpkg exits non-zero (mustRun throws) when the installed version is older than the pin.
    await mustRun("dpkg", ["--compare-versions", installed, "ge", pinned]);
  });

  it("writes the same files twice from the same records, valid HTML", async () => {
    const t = performance.now();
    const out = await kilnOk(["site", "--out", path.join(dir, "site1")]);
    process.stderr.write(`kiln site (fixture catalog): ${Math.round(performance.now() - t)} ms: ${out}`);
    await kilnOk(["site", "--out", path.join(dir, "site2")]);
    const [a, b] = [await files(path.join(dir, "site1")), await files(path.join(dir, "site2"))];
    expect(Object.keys(a)).toEqual([".kiln-site", "images/app.html", "images/base.html", "index.html"]);
    expect(b).toEqual(a);
    for (const [name, text] of Object.entries(a)) if (name.endsWith(".html")) expect(await lintHtml(text, name)).toEqual([]);
  });

  it("shows in Chromium, from file:// alone: digests on the index, run line and one point per build on the pages", async () => {
    const digests = await storeDigests(env.KILN_STORE!);
    expect(Object.keys(digests).sort()).toEqual(["app:image", "base:image"]);
    const history = async (ref: string) => JSON.parse(await fs.readFile(path.join(dir, "kiln-state", "history", ref.split(":")[0]!, "image.json"), "utf8")) as unknown[];
    expect(await history("app:image")).toHaveLength(3);
    expect(await history("base:image")).toHaveLength(1);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const complaints: string[] = [];
    context.on("request", (r) => requests.push(r.url()));
    const page = await context.newPage();
    page.on("console", (m) => m.type() === "error" && complaints.push(m.text()));
    page.on("pageerror", (e) => complaints.push(e.message));
    const site = path.join(dir, "site1");

    await page.goto(`file://${site}/index.html`);
    for (const [ref, digest] of Object.entries(digests)) {
      await expect(page.locator(`tr[data-ref="${ref}"] code.digest`).textContent()).resolves.toBe(digest);
    }
    expect(await page.locator("tr[data-ref]").count()).toBe(2);
    await expect(page.locator(`tr[data-ref="base:image"]`).textContent()).resolves.toMatch(/passed amd64/);
    await page.screenshot({ path: path.join(SHOTS, "index.png"), fullPage: true });

    for (const [name, builds] of [["app", 3], ["base", 1]] as const) {
      await page.goto(`file://${site}/images/${name}.html`);
      const run = await page.locator("pre.run").first().textContent();
      expect(run).toMatch(new RegExp(`^docker run --rm --read-only --cap-drop=ALL --security-opt no-new-privileges --user 2000 --tmpfs /tmp .*kiln-site/${name}:`));
      for (const platform of ["linux/amd64", "linux/arm64"]) {
        expect(await page.locator(`figure[data-platform="${platform}"] svg circle.point`).count(), `${name} ${platform}`).toBe(builds);
        expect(await page.locator(`figure[data-platform="${platform}"] svg`).isVisible()).toBe(true);
      }
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    }
    const app = await page.goto(`file://${site}/images/app.html`).then(() => page.locator("pre.run").first().textContent());
    expect(app).toContain("-p 8080:8080 -v app-data:/data -e 'APP_GREETING=hello from the site test' kiln-site/app:latest");
    await context.close();

    expect(requests.filter((u) => !u.startsWith("file://") && !u.startsWith("data:"))).toEqual([]);
    expect(requests.length).toBeGreaterThan(0);
    expect(complaints).toEqual([]);
    process.stderr.write(`site screenshots: ${SHOTS}\n`);
  });

  it("lists every image of the real catalog, from an empty store", async () => {
    const store = path.join(dir, "empty-store");
    await fs.mkdir(store);
    await fs.writeFile(path.join(store, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [] }));
    const t = performance.now();
    await kilnOk(["site", "--out", path.join(dir, "catalog-site")], { KILN_CATALOG: REPO, KILN_STORE: store });
    process.stderr.write(`kiln site (the catalog, empty store): ${Math.round(performance.now() - t)} ms\n`);
    const names = (await fs.readdir(path.join(REPO, "images"), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    const index = await fs.readFile(path.join(dir, "catalog-site", "index.html"), "utf8");
    for (const name of names) expect(index).toContain(`<a href="images/${name}.html">${name}</a>`);
  });

  it("refuses a store that is not there: one line, exit 1, no trace", async () => {
    const r = await kiln(["site", "--out", path.join(dir, "nowhere-site")], { ...env, KILN_STORE: path.join(dir, "no-such-store") });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^kiln: no store at .*no-such-store \(from KILN_STORE\); check that path, or build into it first: kiln build IMAGE --with-parents$/m);
    expect(r.stderr).not.toMatch(NO_TRACE);
  });
});
