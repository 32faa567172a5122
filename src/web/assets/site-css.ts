import { supportMapCss } from '../support-map.js';

/**
 * The supporter pages' one stylesheet, served as /assets/site.<hash>.css
 * (src/web/assets/index.ts). Kept in a module rather than a .css file so it
 * ships with the code on every runtime without a file system.
 * Colours meet WCAG AA (4.5:1 for text, 3:1 for borders and focus rings).
 */
export const siteCss = `
:root {
  --text: #1b1b1f;
  --muted: #4a4f57;
  --bg: #ffffff;
  --panel: #f4f5f7;
  --border: #767b83;
  --accent: #1d4ed8;
  --accent-dark: #1e3a8a;
  --error: #b3261e;
  --focus: #b45309;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Noto Sans", "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic", "Meiryo",
    "Noto Sans CJK KR", "Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic",
    "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
  color: var(--text);
  background: var(--bg);
  line-height: 1.6;
}
:lang(ja) { font-family: system-ui, -apple-system, "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic", "Meiryo", sans-serif; }
:lang(ko) { font-family: system-ui, -apple-system, "Noto Sans CJK KR", "Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic", sans-serif; }
:lang(zh-Hans) { font-family: system-ui, -apple-system, "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; }
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font-size: 1.0625rem; }
a { color: var(--accent); text-underline-offset: 0.15em; }
a:hover { color: var(--accent-dark); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip-link { position: absolute; left: 0.5rem; top: -10rem; padding: 0.5rem 1rem; background: var(--bg); color: var(--accent); z-index: 10; }
.skip-link:focus { top: 0.5rem; }
.site-header { border-bottom: 1px solid #d5d8dd; background: var(--panel); }
.site-header .inner, main, .site-footer .inner { max-width: 46rem; margin: 0 auto; padding: 0 1rem; }
.site-header .inner { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; justify-content: space-between; padding-top: 0.5rem; padding-bottom: 0.5rem; }
.site-name { font-weight: 600; }
.language-switch ul { display: flex; flex-wrap: wrap; gap: 0.25rem 0.75rem; list-style: none; margin: 0; padding: 0; }
.language-switch a { display: inline-block; padding: 0.25rem 0.25rem; }
.language-switch a[aria-current="page"] { color: var(--text); font-weight: 700; text-decoration: none; border-bottom: 3px solid var(--accent); }
main { padding-top: 1.5rem; padding-bottom: 3rem; }
h1 { font-size: 1.9rem; line-height: 1.3; margin: 0 0 0.75rem; }
h2 { font-size: 1.35rem; line-height: 1.35; margin: 2rem 0 0.75rem; }
h3 { font-size: 1.15rem; margin: 1.5rem 0 0.5rem; }
.summary { font-size: 1.15rem; color: var(--text); }
.note { color: var(--muted); font-size: 0.95rem; }
.progress { margin: 1.25rem 0; padding: 1rem; background: var(--panel); border-radius: 0.5rem; }
.progress p { margin: 0 0 0.5rem; font-weight: 600; font-size: 1.15rem; }
progress { display: block; width: 100%; height: 1rem; appearance: none; border: 1px solid var(--border); border-radius: 0.5rem; background: var(--bg); overflow: hidden; }
progress::-webkit-progress-bar { background: var(--bg); }
progress::-webkit-progress-value { background: var(--accent); }
progress::-moz-progress-bar { background: var(--accent); }
.targets ul, .recent ul { padding-left: 1.25rem; }
.recent li { margin: 0.15rem 0; }
.campaign-body { overflow-wrap: anywhere; }
.sign { margin-top: 2.5rem; padding: 1.25rem; border: 2px solid var(--accent); border-radius: 0.5rem; }
.sign h2 { margin-top: 0; }
.field { margin: 0 0 1.25rem; }
.field label, .label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
.hint { display: block; color: var(--muted); font-size: 0.95rem; margin-bottom: 0.35rem; font-weight: 400; }
.optional { font-weight: 400; color: var(--muted); }
input[type="text"], input[type="email"], select, textarea {
  display: block; width: 100%; max-width: 32rem; font: inherit; padding: 0.5rem 0.6rem;
  color: var(--text); background: var(--bg); border: 2px solid var(--border); border-radius: 0.25rem;
}
textarea { min-height: 6rem; resize: vertical; }
input[aria-invalid="true"], select[aria-invalid="true"], textarea[aria-invalid="true"] { border-color: var(--error); border-width: 3px; }
.field-error { display: block; color: var(--error); font-weight: 700; margin-bottom: 0.35rem; }
fieldset { margin: 0 0 1.25rem; padding: 0.75rem 1rem 0.5rem; border: 1px solid var(--border); border-radius: 0.25rem; }
legend { font-weight: 600; padding: 0 0.25rem; }
.choice { display: flex; gap: 0.5rem; align-items: flex-start; margin: 0.35rem 0; }
.choice input { width: 1.25rem; height: 1.25rem; margin: 0.2rem 0 0; flex: none; accent-color: var(--accent); }
.choice label { font-weight: 400; margin: 0; }
.privacy { margin: 1.5rem 0; padding: 1rem; background: var(--panel); border-radius: 0.25rem; font-size: 0.95rem; }
.privacy h3 { margin-top: 0; }
.privacy p { margin: 0.4rem 0; }
button, .button {
  display: inline-block; font: inherit; font-weight: 700; padding: 0.65rem 1.5rem; min-height: 2.75rem;
  color: #ffffff; background: var(--accent); border: 2px solid var(--accent); border-radius: 0.25rem; cursor: pointer; text-decoration: none;
}
button:hover, .button:hover { background: var(--accent-dark); border-color: var(--accent-dark); color: #ffffff; }
.error-summary { margin: 0 0 1.5rem; padding: 1rem; border: 3px solid var(--error); border-radius: 0.25rem; }
.error-summary h2 { margin: 0 0 0.5rem; font-size: 1.2rem; color: var(--error); }
.error-summary ul { margin: 0; padding-left: 1.25rem; }
.error-summary a { color: var(--error); font-weight: 700; }
.notice { padding: 1rem; border-left: 6px solid var(--accent); background: var(--panel); }
.facts { padding: 1rem; background: var(--panel); border-radius: 6px; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0 0 0.75rem; }
.hp { position: absolute; left: -10000px; top: auto; width: 1px; height: 1px; overflow: hidden; }
.site-footer { border-top: 1px solid #d5d8dd; color: var(--muted); font-size: 0.95rem; padding: 1rem 0 2rem; }
@media (min-width: 40rem) { h1 { font-size: 2.25rem; } }
[hidden] { display: none !important; }
.visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.share, .next-step { margin: 2rem 0; }
.share ul { display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; list-style: none; margin: 0 0 1rem; padding: 0; }
.share ul a { display: inline-block; padding: 0.4rem 0; font-weight: 600; }
.share-copy { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: flex-end; }
.share-copy label { flex-basis: 100%; font-weight: 600; }
.share-copy input { flex: 1 1 16rem; max-width: 32rem; font: inherit; padding: 0.5rem 0.6rem; color: var(--text); background: var(--panel); border: 2px solid var(--border); border-radius: 0.25rem; }
.share-status { flex-basis: 100%; margin: 0.25rem 0 0; min-height: 1.5em; color: var(--muted); }
body.embed main { max-width: none; padding: 0.75rem 1rem 1rem; }
body.embed h1 { font-size: 1.4rem; margin: 0 0 0.5rem; }
body.embed .progress { margin: 0.75rem 0; padding: 0.75rem; }
body.embed .sign { margin-top: 1rem; padding: 1rem; }
body.embed .privacy { font-size: 0.9rem; }
${supportMapCss}`;
