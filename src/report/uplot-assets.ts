/**
 * uPlot's browser build and style sheet, read from node_modules when the first HTML report is
 * rendered and inlined into every report: the file works offline, with no script from the network.
 */
import { readFileSync } from 'node:fs';

let assets: { script: string; style: string; version: string } | undefined;

/** uPlot's minified IIFE build (defines `uPlot`), its CSS and its version. */
export function uplotAssets(): { script: string; style: string; version: string } {
  assets ??= {
    script: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    style: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    version: (JSON.parse(readFileSync(require.resolve('uplot/package.json'), 'utf8')) as { version: string }).version,
  };
  return assets;
}
