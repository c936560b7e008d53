/** The HTML report's style sheet: readable on screen and on paper, no web fonts. */
export const STYLE = `
:root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --pass: #15803d; --fail: #b91c1c; --warn: #b45309; }
* { box-sizing: border-box; }
body { margin: 0; background: #f9fafb; color: var(--fg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; background: #f3f4f6; padding: 1px 4px; border-radius: 3px; word-break: break-all; }
pre { padding: 8px; white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
.pass { color: var(--pass); font-weight: 600; }
.fail { color: var(--fail); font-weight: 600; }
.none, .meta, footer, .legend { color: var(--muted); }
footer { margin-top: 32px; font-size: 12px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 700; color: #fff; background: var(--muted); }
.verdict-passed, .rollback-complete, .rollback-nothing-injected { background: var(--pass); }
.verdict-failed, .verdict-error, .rollback-incomplete { background: var(--fail); }
.verdict-aborted, .verdict-not-run { background: var(--warn); }
.reason { font-size: 15px; }
figure.chart { margin: 12px 0 20px; }
figcaption { font-size: 13px; margin-bottom: 4px; }
.plot { width: 100%; position: relative; }
.gd-layer { position: absolute; inset: 0; pointer-events: none; overflow: hidden; }
.fault-window { position: absolute; top: 0; bottom: 0; background: rgba(220, 38, 38, 0.12); border-left: 1px solid rgba(220, 38, 38, 0.4); border-right: 1px solid rgba(220, 38, 38, 0.4); color: #991b1b; font-size: 11px; padding: 0 3px; }
.fault-window.not-reverted { background: repeating-linear-gradient(45deg, rgba(220, 38, 38, 0.18) 0 6px, rgba(220, 38, 38, 0.06) 6px 12px); }
.mark { position: absolute; top: 0; bottom: 0; width: 0; border-left: 2px dashed; }
.mark-label { position: absolute; left: 3px; font-size: 11px; white-space: nowrap; background: rgba(255, 255, 255, 0.8); }
.mark-label.flip { left: auto; right: 3px; }
.mark-inject { border-color: #b45309; color: #b45309; }
.mark-revert { border-color: #15803d; color: #15803d; }
.mark-abort { border-color: #b91c1c; color: #b91c1c; }
.mark-breach { border-color: #7c3aed; color: #7c3aed; }
.swatch { display: inline-block; width: 14px; height: 10px; vertical-align: middle; border: 1px solid #9ca3af; }
.swatch.fault { background: rgba(220, 38, 38, 0.18); }
.swatch.inject { background: #b45309; } .swatch.revert { background: #15803d; } .swatch.abort { background: #b91c1c; } .swatch.breach { background: #7c3aed; }
ol.events { font-size: 12px; padding-left: 20px; } ol.events time { color: var(--muted); } .stage { font-weight: 600; }
ol.procedure li { margin-bottom: 6px; }
#timeline-error:empty { display: none; }
@media print { body { background: #fff; } main { padding: 0; } }
`;
