import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** One file the UI serves: its bytes and content type. */
export interface UiAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

// The pages' own files ship in the package's assets/ui folder, two levels above this module both
// in src/observability and in dist/observability; uPlot ships in its own package, a dependency.
const OWN_ASSETS = new URL("../../assets/ui/", import.meta.url);
const OWN_FILES: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};
const UPLOT_FILES: Readonly<Record<string, [string, string]>> = {
  "uPlot.iife.min.js": ["uplot/dist/uPlot.iife.min.js", "text/javascript; charset=utf-8"],
  "uPlot.min.css": ["uplot/dist/uPlot.min.css", "text/css; charset=utf-8"],
};

/**
 * Reads every file the UI serves, by the name it is served under (`/assets/<name>`).
 *
 * @example
 * const assets = await loadUiAssets();
 * assets.get("index.html")?.contentType; // "text/html; charset=utf-8"
 */
export async function loadUiAssets(): Promise<ReadonlyMap<string, UiAsset>> {
  const require = createRequire(import.meta.url);
  const assets = new Map<string, UiAsset>();
  for (const [name, contentType] of Object.entries(OWN_FILES)) {
    assets.set(name, {
      body: await readFile(fileURLToPath(new URL(name, OWN_ASSETS))),
      contentType,
    });
  }
  for (const [name, [specifier, contentType]] of Object.entries(UPLOT_FILES)) {
    assets.set(name, { body: await readFile(require.resolve(specifier)), contentType });
  }
  return assets;
}
