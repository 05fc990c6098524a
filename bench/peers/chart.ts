/**
 * The peers chart: speed relative to Spark (log scale), one group of bars per workload, one bar
 * per contender. Drawn as SVG by hand and rendered to PNG with resvg (no browser).
 */
import { Resvg } from "@resvg/resvg-js";

export interface ChartGroup {
  readonly title: string;
  /** Speed vs Spark per contender (undefined: the contender failed). */
  readonly ratios: ReadonlyArray<number | undefined>;
}

const COLORS = ["#888888", "#d62728", "#ff7f0e", "#1f77b4", "#17becf", "#2ca02c", "#9467bd"];

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function chartSvg(contenders: readonly string[], groups: readonly ChartGroup[]): string {
  const bar = 14;
  const groupGap = 22;
  const left = 250;
  const plotWidth = 560;
  const top = 50;
  const legendHeight = 18 * contenders.length + 20;
  const groupHeight = bar * contenders.length + groupGap;
  const height = top + groups.length * groupHeight + 30 + legendHeight;
  const width = left + plotWidth + 90;
  // Log scale from 0.05x to 200x: the slowest forms and the limit both fit.
  const min = Math.log10(0.05);
  const max = Math.log10(200);
  const x = (ratio: number) =>
    left + ((Math.log10(Math.min(Math.max(ratio, 0.05), 200)) - min) / (max - min)) * plotWidth;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Liberation Sans, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="22" font-size="15" font-weight="bold">Word count: speed relative to Spark Streaming local[2] (medians: per batch, socket per run; log scale)</text>`,
  ];
  const plotBottom = top + groups.length * groupHeight;
  for (const tick of [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200]) {
    parts.push(
      `<line x1="${x(tick)}" y1="${top - 8}" x2="${x(tick)}" y2="${plotBottom}" stroke="${tick === 1 ? "#000" : "#ddd"}" stroke-width="${tick === 1 ? 1.5 : 1}"/>`,
      `<text x="${x(tick)}" y="${plotBottom + 16}" text-anchor="middle">${tick}x</text>`,
    );
  }
  groups.forEach((group, g) => {
    const y0 = top + g * groupHeight;
    parts.push(
      `<text x="${left - 10}" y="${y0 + (bar * contenders.length) / 2 + 4}" text-anchor="end" font-weight="bold">${escapeXml(group.title)}</text>`,
    );
    group.ratios.forEach((ratio, c) => {
      const y = y0 + c * bar;
      if (ratio === undefined) {
        parts.push(`<text x="${x(0.05) + 4}" y="${y + bar - 3}" fill="#a00">failed</text>`);
        return;
      }
      parts.push(
        `<rect x="${x(0.05)}" y="${y + 1}" width="${x(ratio) - x(0.05)}" height="${bar - 2}" fill="${COLORS[c % COLORS.length]}"/>`,
        `<text x="${x(ratio) + 4}" y="${y + bar - 3}" font-size="11">${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}x</text>`,
      );
    });
  });
  contenders.forEach((name, c) => {
    const y = plotBottom + 36 + c * 18;
    parts.push(
      `<rect x="${left}" y="${y}" width="12" height="12" fill="${COLORS[c % COLORS.length]}"/>`,
      `<text x="${left + 18}" y="${y + 10}">${escapeXml(name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

export function chartPng(contenders: readonly string[], groups: readonly ChartGroup[]): Buffer {
  const svg = chartSvg(contenders, groups);
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } })
    .render()
    .asPng();
}
