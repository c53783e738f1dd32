import fs from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { lintHtml } from "../../test/support/html-lint.ts";
import { storeTwoPlatformImage } from "../../test/support/site-fixture.ts";
import { tempDir } from "../../test/support/temp-dir.ts";
import { writeCatalog } from "../../test/unit/catalog/fixture.ts";
import { recordBuild } from "../catalog/history.ts";
import { CatalogState } from "../catalog/state.ts";
import { recordTest } from "../catalog/test-records.ts";
import { loadCatalog } from "../definition/catalog.ts";
import { OciStore } from "../oci/store.ts";
import { gatherSite, type SiteData } from "./data.ts";
import { escapeHtml, html, inlineMarkdown, raw } from "./html.ts";
import { CSP } from "./layout.ts";
import { renderSite } from "./pages.ts";
import { dockerRunLine, envVars, readmeEnv, shellQuote } from "./run-line.ts";
import { labelIndexes, sizePlot } from "./svg.ts";
import { writeSite } from "./write.ts";

const README = `# app

| variable | default | meaning |
|---|---|---|
| \`APP_ROUTES\` | (required) | \`HOST=TARGET\` pairs, joined by \\| |
| \`APP_PORT\` | 8080 | HTTP <b>port</b> |

Text after the table.
`;

let data: SiteData;
let digests: string[];
let store: OciStore;
let state: CatalogState;
let root: string;

async function gather(): Promise<SiteData> {
  const catalog = await loadCatalog(root);
  return gatherSite({ catalog, store, state, freshness: new Map([["app:image", { status: "stale", reasons: ["context file data.txt"] }]]) });
}

beforeAll(async () => {
  root = await writeCatalog({
    app: {
      def: {
        category: "infrastructure",
        description: "An app <with> \"quotes\" & tags",
        outputs: { names: ["kiln/app"], tags: ["{version}"] },
        runtime: { user: "2000", ports: [9180, 8080], volumes: ["/data"], env: { APP_ROUTES: "*=respond:it's me" } },
      },
      files: { "README.md": README, "kiln.lock.json": JSON.stringify({ lockVersion: 1, image: "app", git: { src: { url: "https://example.invalid/x.git", ref: "v1", commit: "a".repeat(40) } } }) },
    },
    idle: { def: { category: "base" } },
  });
  const dir = await tempDir("kiln-site-");
  store = await OciStore.open(path.join(dir, "store"));
  state = CatalogState.forStore(store.dir);
  digests = [];
  // Three builds of different sizes; the lock changes before the third.
  for (const [i, bytes] of [20_000, 80_000, 40_000].entries()) {
    if (i === 2) await fs.writeFile(path.join(root, "images/app/kiln.lock.json"), JSON.stringify({ lockVersion: 1, image: "app", git: { src: { url: "https://example.invalid/x.git", ref: "v2", commit: "b".repeat(40) } } }));
    const digest = await storeTwoPlatformImage(store, "app:image", bytes);
    digests.push(digest);
    await recordBuild(store, state, { ref: "app:image", digest, imageDir: path.join(root, "images/app") }, new Date(Date.UTC(2026, 0, 1 + i)));
  }
  await state.saveVerdict(digests[2]!, { ref: "app:image", reproducible: true, verifiedAt: "2026-01-04T00:00:00Z" });
  await recordTest(state, "app:image", digests[2]!, { "linux/amd64": { ok: true, checks: 12, failed: [], testedAt: "2026-01-05T10:00:00.000Z", staticOnly: false } });
  data = await gather();
});

describe("site data", () => {
  it("gathers every image with its store digest, sizes, verdict, test, staleness and history", () => {
    expect(data.images.map((i) => i.name)).toEqual(["idle", "app"]);
    const app = data.images[1]!.targets[0]!;
    expect(app.digest).toBe(digests[2]);
    expect(app.sizes.map((s) => s.platform)).toEqual(["linux/amd64", "linux/arm64"]);
    expect(app.verdict).toBe("verified");
    expect(app.test?.platforms["linux/amd64"]?.ok).toBe(true);
    expect(app.freshness).toEqual({ status: "stale", reasons: ["context file data.txt"] });
    expect(app.history.map((b) => b.digest)).toEqual(digests);
    expect(app.layers["linux/amd64"]![0]).toMatchObject({ uncompressedBytes: 40_000 });
    expect(app.tag).toBe("kiln/app:1.2.3");
    expect(app.pinDiff?.changes).toEqual([{ key: "git src", before: `${"a".repeat(40)} (v1)`, after: `${"b".repeat(40)} (v2)` }]);
    const idle = data.images[0]!.targets[0]!;
    expect(idle).toMatchObject({ verdict: "not verified", freshness: { status: "never-built" }, history: [], sizes: [] });
    expect(idle.digest).toBeUndefined();
  });

  it("reads the README's variable table and the test environment", () => {
    expect(readmeEnv(README)).toEqual([
      { name: "APP_ROUTES", default: "(required)", meaning: "`HOST=TARGET` pairs, joined by \\|" },
      { name: "APP_PORT", default: "8080", meaning: "HTTP <b>port</b>" },
    ]);
    const env = data.images[1]!.env;
    expect(env.map((e) => [e.name, e.required, e.testValue])).toEqual([
      ["APP_ROUTES", true, "*=respond:it's me"],
      ["APP_PORT", false, undefined],
    ]);
  });
});

describe("the run line", () => {
  it("is the hardened profile with ports, volumes and env, quoted for the shell", () => {
    expect(data.images[1]!.targets[0]!.runLine).toBe(
      `docker run --rm --read-only --cap-drop=ALL --security-opt no-new-privileges --user 2000 --tmpfs /tmp -p 8080:8080 -p 9180:9180 -v app-data:/data -e 'APP_ROUTES=*=respond:it'\\''s me' kiln/app:1.2.3`,
    );
    const runtime = { user: "2000", ports: [], volumes: [], env: {} } as never;
    expect(dockerRunLine("x", runtime, envVars("| variable | default | meaning |\n|---|---|---|\n| `X_KEY` | (required) | a key |\n", runtime), "kiln/x:1")).toContain("-e X_KEY=CHANGE-ME kiln/x:1");
    expect(shellQuote("a b")).toBe("'a b'");
  });

  it("sets the sysctls the image is tested with", () => {
    const runtime = { user: "2000", ports: [7000], volumes: [], env: {}, privileges: { sysctls: { "net.ipv4.ip_unprivileged_port_start": "319" } } } as never;
    expect(dockerRunLine("x", runtime, [], "kiln/x:1")).toBe(
      "docker run --rm --read-only --cap-drop=ALL --security-opt no-new-privileges --user 2000 --tmpfs /tmp --sysctl=net.ipv4.ip_unprivileged_port_start=319 -p 7000:7000 kiln/x:1",
    );
  });
});

describe("HTML escaping", () => {
  it("escapes every interpolated value, keeps trusted markup, joins arrays", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    expect(html`<p title="${'"><script>'}">${["<i>", raw("<b>ok</b>"), undefined, false, 3]}</p>`.text).toBe('<p title="&quot;&gt;&lt;script&gt;">&lt;i&gt;<b>ok</b>3</p>');
    expect(inlineMarkdown("`<x>` a \\| <b>").text).toBe("<code>&lt;x&gt;</code> a | &lt;b&gt;");
  });

  it("lets nothing from a definition, a README or an image config through as markup", () => {
    const pages = [...renderSite(data).values()].join("\n");
    expect(pages).not.toContain("<script>");
    expect(pages).not.toContain("<with>");
    expect(pages).toContain("An app &lt;with&gt; &quot;quotes&quot; &amp; tags");
    expect(pages).toContain("COPY &lt;script&gt;alert(1)&lt;/script&gt; /data");
    expect(pages).toContain("HTTP &lt;b&gt;port&lt;/b&gt;");
  });
});

describe("the size plot", () => {
  const points = [1000, 250_000, 90_000].map((value, i) => ({ label: `2026-01-0${i + 1}`, value, detail: `build <${i}>` }));

  it("has one point per build, a line through them, y ticks in bytes, escaped tooltips", () => {
    const svg = sizePlot(points, { title: "app & co" });
    expect(svg.match(/<circle class="point"/g)).toHaveLength(3);
    expect(svg.match(/<path class="series" d="M[\d.,LM]+"/g)).toHaveLength(1);
    expect(svg).toContain(">250 kB</text>");
    expect(svg).toContain("<title>app &amp; co</title>");
    expect(svg).toContain("<title>build &lt;1&gt;</title>");
    expect(sizePlot(points, { title: "app & co" })).toBe(svg);
  });

  it("draws a single build as one point and no build as a note", () => {
    const one = sizePlot(points.slice(0, 1), { title: "one" });
    expect(one.match(/<circle/g)).toHaveLength(1);
    expect(one).not.toContain("<path");
    expect(sizePlot([], { title: "none" })).toContain("no recorded build");
  });

  it("labels at most a few builds, the first and the last among them", () => {
    expect(labelIndexes(3, 5)).toEqual([0, 1, 2]);
    expect(labelIndexes(50, 5)).toEqual([0, 12, 25, 37, 49]);
  });

  it("is drawn per platform on the image page, a point per recorded build", () => {
    const appPage = renderSite(data).get("images/app.html")!;
    const figures = appPage.split("<figure").slice(1);
    expect(figures).toHaveLength(2);
    for (const f of figures) expect(f.match(/<circle class="point"/g)).toHaveLength(3);
  });
});

describe("pages", () => {
  it("carry a strict CSP, no script and no outside address", () => {
    for (const [name, text] of renderSite(data)) {
      expect(text, name).toContain(`<meta http-equiv="Content-Security-Policy" content="${CSP.replace(/'/g, "&#39;")}">`);
      expect(text, name).not.toMatch(/<script|<link rel="stylesheet"|@import|url\(/);
      expect(text.match(/(?:href|src)="[a-z]+:[^"]*"/g) ?? [], name).toEqual(['href="data:,"']);
    }
    expect(CSP).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+';/);
  });

  it("are valid HTML (html-validate, recommended rules)", async () => {
    for (const [name, text] of renderSite(data)) expect(await lintHtml(text, name)).toEqual([]);
  });
});

describe("determinism", () => {
  it("gives the same files for the same records, with no clock in them", async () => {
    const a = await tempDir("kiln-site-a-");
    const b = await tempDir("kiln-site-b-");
    await writeSite(a, renderSite(data));
    await writeSite(b, renderSite(await gather()));
    const files = async (d: string) => {
      const out: Record<string, string> = {};
      for (const f of await fs.readdir(d, { recursive: true })) {
        const p = path.join(d, f);
        if ((await fs.stat(p)).isFile()) out[f] = await fs.readFile(p, "utf8");
      }
      return out;
    };
    const [fa, fb] = [await files(a), await files(b)];
    expect(Object.keys(fa).sort()).toEqual([".kiln-site", "images/app.html", "images/idle.html", "index.html"]);
    expect(fb).toEqual(fa);
    expect(Object.values(fa).join("")).not.toMatch(new RegExp(new Date().toISOString().slice(0, 10)));
    expect(renderSite({ ...data, generatedAt: "2026-02-01" }).get("index.html")).toContain(" on 2026-02-01.");
  });

  it("writes only into an empty folder or an earlier site, and drops pages of images gone", async () => {
    const dir = await tempDir("kiln-site-w-");
    await writeSite(dir, renderSite(data));
    await writeSite(dir, new Map([["index.html", "x"]]));
    expect((await fs.readdir(path.join(dir, "images"))).sort()).toEqual([]);
    const other = await tempDir("kiln-site-o-");
    await fs.writeFile(path.join(other, "notes.txt"), "mine");
    await expect(writeSite(other, renderSite(data))).rejects.toThrow(/not empty and holds no site/);
  });
});
