/**
 * The pages: the catalog index and one page per image. Pure functions of
 * SiteData: the same data gives the same bytes.
 */
import type { BuildRecord } from "../catalog/history.ts";
import { formatBytes } from "../catalog/sizes.ts";
import type { TestRecord } from "../catalog/test-records.ts";
import type { SiteData, SiteImage, SiteTarget } from "./data.ts";
import { html, inlineMarkdown, raw, type Html } from "./html.ts";
import { page } from "./layout.ts";
import { sizePlot } from "./svg.ts";

export function imagePath(name: string): string {
  return `images/${name}.html`;
}

/** Every file of the site: relative path -> content. */
export function renderSite(data: SiteData): Map<string, string> {
  const files = new Map<string, string>([["index.html", indexPage(data)]]);
  for (const img of data.images) files.set(imagePath(img.name), imagePage(img, data.generatedAt));
  return files;
}

const arch = (p: string) => p.replace(/^linux\//, "");
/** `2026-01-02T03:04:05.678Z` -> `2026-01-02 03:04 UTC` */
export const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

const FRESHNESS = { "up-to-date": "up to date", stale: "stale", "never-built": "never built" } as const;

function verdictCell(t: SiteTarget): Html {
  if (!t.digest) return html`<span class="muted">-</span>`;
  const cls = t.verdict === "verified" ? "ok" : t.verdict === "differs" ? "bad" : "muted";
  return html`<span class="${cls}">${t.verdict}</span>`;
}

function testCell(test: TestRecord | undefined, digest: string | undefined): Html {
  if (!digest) return html`<span class="muted">-</span>`;
  const platforms = Object.entries(test?.platforms ?? {});
  if (!platforms.length) return html`<span class="muted">not tested</span>`;
  return html`${platforms.map(
    ([p, r]) =>
      html`<div><span class="${r.ok ? "ok" : "bad"}">${r.ok ? "passed" : "failed"}</span> ${arch(p)}${r.staticOnly ? " (static only)" : ""}, ${when(r.testedAt)}${r.ok ? "" : html`: ${r.failed.join(", ")}`}</div>`,
  )}`;
}

function indexPage(data: SiteData): string {
  const rows = data.images.flatMap((img) =>
    img.targets.map(
      (t, i) => html`<tr data-ref="${t.ref}">
${i === 0 ? html`<td rowspan="${img.targets.length}"><a href="${imagePath(img.name)}">${img.name}</a></td><td rowspan="${img.targets.length}">${img.category}</td><td rowspan="${img.targets.length}">${img.description}</td><td rowspan="${img.targets.length}">${img.platforms.map(arch).join(", ")}</td>` : ""}
<td>${t.target}${t.isDefault && img.targets.length > 1 ? " (default)" : ""}</td>
<td>${t.digest ? html`<code class="digest">${t.digest}</code>` : html`<span class="muted">not built</span>`}</td>
<td class="num">${t.sizes.length ? t.sizes.map((s) => html`<div>${arch(s.platform)} ${formatBytes(s.compressedBytes)}</div>`) : "-"}</td>
<td>${verdictCell(t)}</td>
<td>${testCell(t.test, t.digest)}</td>
<td title="${t.freshness.reasons.join("; ")}">${FRESHNESS[t.freshness.status]}</td>
</tr>`,
    ),
  );
  const body = html`<p>${data.images.length} images, ${data.images.reduce((n, i) => n + i.targets.length, 0)} targets. Digests are the index digests in the local store; sizes are compressed (what a pull transfers).</p>
<table class="catalog">
<thead><tr><th>image</th><th>category</th><th>description</th><th>platforms</th><th>target</th><th>index digest</th><th>compressed</th><th>reproducible</th><th>kiln test</th><th>status</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
  return page({ title: "kiln catalog", root: "", body, generatedAt: data.generatedAt });
}

function imagePage(img: SiteImage, generatedAt?: string): string {
  const body = html`<p>${img.description}</p>
<p class="muted">${img.category} · ${img.platforms.map(arch).join(", ")}${img.snapshot ? html` · Debian snapshot <code>${img.snapshot}</code>` : ""}</p>
${img.targets.map((t) => targetSection(img, t))}
<h2 id="env">Environment variables</h2>
${envTable(img)}
<h2 id="pins">Pins</h2>
${pinTables(img)}`;
  return page({ title: `kiln catalog: ${img.name}`, root: "../", body, generatedAt });
}

function targetSection(img: SiteImage, t: SiteTarget): Html {
  const heading = img.targets.length > 1 ? html`<h2 id="target-${t.target}">${t.ref}${t.isDefault ? " (default target)" : ""}</h2>${t.description ? html`<p>${t.description}</p>` : ""}` : html`<h2 id="target-${t.target}">${t.ref}</h2>`;
  return html`<section class="target" data-ref="${t.ref}">
${heading}
<table class="facts"><tbody>
<tr><th>index digest</th><td>${t.digest ? html`<code class="digest">${t.digest}</code>` : "not built"}</td></tr>
<tr><th>status</th><td>${FRESHNESS[t.freshness.status]}${t.freshness.reasons.length && t.freshness.status !== "never-built" ? html`: ${t.freshness.reasons.join("; ")}` : ""}</td></tr>
<tr><th>reproducible</th><td>${verdictCell(t)}</td></tr>
<tr><th>kiln test</th><td>${testCell(t.test, t.digest)}</td></tr>
${t.sizes.map((s) => html`<tr><th>${arch(s.platform)}</th><td><code class="digest">${s.manifest}</code><br>${s.layers} layers, ${formatBytes(s.compressedBytes)} compressed, ${formatBytes(s.uncompressedBytes)} uncompressed</td></tr>`)}
</tbody></table>
<h3>Run it</h3>
<p>Load it into Docker from the store (<code>bin/kiln build ${t.isDefault ? img.name : t.ref} --load</code> tags it <code>${t.tag}</code>), then:</p>
<pre class="run"><code>${t.runLine}</code></pre>
<p class="muted">user ${t.user}${t.ports.length ? `, ports ${t.ports.join(", ")}` : ", no ports"}${t.volumes.length ? `, volumes ${t.volumes.join(", ")}` : ", no volumes"}; read-only root, no capabilities, no privilege gain, /tmp on tmpfs.</p>
<h3>Size history</h3>
${sizePlots(t)}
<h3>Pins since the previous build</h3>
${pinDiffTable(t)}
<h3>Layers</h3>
${layerTables(t)}
</section>`;
}

function sizePlots(t: SiteTarget): Html {
  if (!t.history.length) return html`<p class="muted">No recorded build (builds record their sizes from now on).</p>`;
  const platforms = [...new Set(t.history.flatMap((b) => b.platforms.map((p) => p.platform)))].sort();
  return html`<div class="plots">${platforms.map((p) => {
    const builds = t.history.filter((b) => b.platforms.some((s) => s.platform === p));
    const points = builds.map((b: BuildRecord) => {
      const s = b.platforms.find((x) => x.platform === p)!;
      return { label: b.builtAt.slice(0, 10), value: s.compressedBytes, detail: `${when(b.builtAt)}: ${formatBytes(s.compressedBytes)} compressed, ${formatBytes(s.uncompressedBytes)} uncompressed, ${b.digest}` };
    });
    return html`<figure data-platform="${p}">${raw(sizePlot(points, { title: `${t.ref} ${arch(p)}: compressed size per build` }))}<figcaption>${arch(p)}: compressed size of each of the ${builds.length} recorded build${builds.length === 1 ? "" : "s"}</figcaption></figure>`;
  })}</div>`;
}

function pinDiffTable(t: SiteTarget): Html {
  const d = t.pinDiff;
  if (!d) return html`<p class="muted">${t.history.length === 1 ? "One recorded build: nothing to compare with yet." : "No recorded build."}</p>`;
  const span = html`between the build of ${when(d.from.builtAt)} (<code>${d.from.digest.slice(7, 19)}</code>) and that of ${when(d.to.builtAt)} (<code>${d.to.digest.slice(7, 19)}</code>)`;
  if (!d.changes.length) return html`<p>No pin changed ${span}.</p>`;
  return html`<p>${d.changes.length} pin${d.changes.length === 1 ? "" : "s"} changed ${span}:</p>
<table class="pin-diff"><thead><tr><th>pin</th><th>before</th><th>after</th></tr></thead><tbody>
${d.changes.map((c) => html`<tr><td>${c.key}</td><td>${c.before ?? html`<span class="muted">(none)</span>`}</td><td>${c.after ?? html`<span class="muted">(removed)</span>`}</td></tr>`)}
</tbody></table>`;
}

function layerTables(t: SiteTarget): Html {
  const platforms = Object.keys(t.layers);
  if (!platforms.length) return html`<p class="muted">Not in the store.</p>`;
  return html`${platforms.map(
    (p) => html`<table class="layers" data-platform="${p}"><caption>${arch(p)}</caption><thead><tr><th>#</th><th>layer</th><th>compressed</th><th>uncompressed</th><th>made by</th></tr></thead><tbody>
${t.layers[p]!.map((l, i) => html`<tr><td class="num">${i + 1}</td><td><code class="digest">${l.digest}</code></td><td class="num">${formatBytes(l.compressedBytes)}</td><td class="num">${formatBytes(l.uncompressedBytes)}</td><td><code>${l.createdBy ?? ""}</code></td></tr>`)}
</tbody></table>`,
  )}`;
}

function envTable(img: SiteImage): Html {
  if (!img.env.length) return html`<p class="muted">None documented.</p>`;
  return html`<table class="env"><thead><tr><th>variable</th><th>default</th><th>meaning</th><th>kiln test sets</th></tr></thead><tbody>
${img.env.map((e) => html`<tr><td><code>${e.name}</code></td><td>${inlineMarkdown(e.default ?? "")}</td><td>${inlineMarkdown(e.meaning ?? "")}</td><td>${e.testValue !== undefined ? html`<code>${e.testValue}</code>` : ""}</td></tr>`)}
</tbody></table>`;
}

function pinTables(img: SiteImage): Html {
  if (!img.pins) return html`<p class="muted">No lock: this image has no external input.</p>`;
  const debs = new Map<string, Map<string, string>>();
  const others: [string, string, string][] = [];
  for (const [key, value] of Object.entries(img.pins)) {
    const [kind, ...rest] = key.split(" ");
    if (kind === "debian") {
      const [a, name] = rest as [string, string];
      if (!debs.has(name)) debs.set(name, new Map());
      debs.get(name)!.set(a, value);
    } else others.push([kind!, rest.join(" "), value]);
  }
  const arches = [...new Set([...debs.values()].flatMap((m) => [...m.keys()]))].sort();
  const names = [...debs.keys()].sort();
  return html`${others.length ? html`<table class="pins"><thead><tr><th>kind</th><th>name</th><th>pin</th></tr></thead><tbody>
${others.map(([k, n, v]) => html`<tr><td>${k}</td><td>${n}</td><td><code class="digest">${v}</code></td></tr>`)}
</tbody></table>` : ""}
${names.length ? html`<table class="debs"><caption>${names.length} Debian packages</caption><thead><tr><th>package</th>${arches.map((a) => html`<th>${a}</th>`)}</tr></thead><tbody>
${names.map((n) => html`<tr><td>${n}</td>${arches.map((a) => html`<td>${debs.get(n)!.get(a) ?? "-"}</td>`)}</tr>`)}
</tbody></table>` : ""}`;
}
