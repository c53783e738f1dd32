/**
 * The size history plot: one inline SVG per target and platform, a point per
 * recorded build (x: the builds in order, labelled with their dates; y: the
 * compressed size). Scales, "nice" axis bounds and ticks come from d3-scale
 * and the line from d3-shape: both compute numbers and path strings without
 * a DOM, so the plot is made here at site-build time and the pages carry no
 * script. Numbers are rounded to one decimal: the same history gives the
 * same bytes.
 */
import { scaleLinear } from "d3-scale";
import { line } from "d3-shape";
import { formatBytes } from "../catalog/sizes.ts";
import { escapeHtml } from "./html.ts";

export interface PlotPoint {
  /** Shown under the x axis (a date). */
  label: string;
  value: number;
  /** The point's tooltip. */
  detail: string;
}

export interface PlotOptions {
  title: string;
  width?: number;
  height?: number;
}

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

export function sizePlot(points: PlotPoint[], opts: PlotOptions): string {
  const width = opts.width ?? 560;
  const height = opts.height ?? 220;
  const m = { top: 16, right: 20, bottom: 40, left: 72 };
  const title = escapeHtml(opts.title);
  const open = `<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><title>${title}</title>`;
  const values = points.map((p) => p.value).filter(Number.isFinite);
  if (values.length === 0) return `${open}<text class="empty" x="${width / 2}" y="${height / 2}" text-anchor="middle">no recorded build</text></svg>`;

  const x = scaleLinear()
    .domain([0, Math.max(1, points.length - 1)])
    .range(points.length === 1 ? [(m.left + width - m.right) / 2, width - m.right] : [m.left, width - m.right]);
  const y = scaleLinear()
    .domain([0, Math.max(...values)])
    .nice(5)
    .range([height - m.bottom, m.top]);
  const out: string[] = [open];

  out.push(`<g class="axis y">`);
  for (const t of y.ticks(5)) {
    const ty = fmt(y(t));
    out.push(`<line class="grid" x1="${m.left}" x2="${width - m.right}" y1="${ty}" y2="${ty}"/>`);
    out.push(`<text x="${m.left - 6}" y="${ty}" dy="0.32em" text-anchor="end">${escapeHtml(formatBytes(t))}</text>`);
  }
  out.push(`</g><g class="axis x">`);
  for (const i of labelIndexes(points.length, 5)) {
    const anchor = i === points.length - 1 && i > 0 ? "end" : "middle";
    out.push(`<text x="${fmt(x(i))}" y="${height - m.bottom + 18}" text-anchor="${anchor}">${escapeHtml(points[i]!.label)}</text>`);
  }
  out.push(`<line class="baseline" x1="${m.left}" x2="${width - m.right}" y1="${fmt(y(0))}" y2="${fmt(y(0))}"/></g>`);

  const path = line<PlotPoint>()
    .x((_, i) => x(i))
    .y((p) => y(p.value))
    .defined((p) => Number.isFinite(p.value))
    .digits(1)(points);
  if (path && points.length > 1) out.push(`<path class="series" d="${path}"/>`);
  points.forEach((p, i) => {
    if (!Number.isFinite(p.value)) return;
    out.push(`<circle class="point" cx="${fmt(x(i))}" cy="${fmt(y(p.value))}" r="4"><title>${escapeHtml(p.detail)}</title></circle>`);
  });
  out.push("</svg>");
  return out.join("");
}

/** At most `max` evenly spread indexes of `n` points, the first and last among them. */
export function labelIndexes(n: number, max: number): number[] {
  if (n <= max) return [...Array(n).keys()];
  const step = (n - 1) / (max - 1);
  return [...new Set([...Array(max).keys()].map((k) => Math.round(k * step)))];
}
