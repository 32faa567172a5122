import { Hono } from 'hono';
import type { AdminEnv } from './admin-env.js';
import { supportMapCss } from '../support-map.js';

/**
 * The dashboard's stylesheet and script, served from this origin under
 * names that carry a hash of their content, so they can be cached forever
 * and the CSP needs no inline code. Kept as strings (not files) so the
 * Workers build bundles them like any module.
 */
const css = `
:root {
  --ink: #1d2330; --muted: #5b6475; --line: #d5d9e2; --bg: #f5f6f8; --card: #fff;
  --accent: #1f5fbf; --accent-ink: #fff; --danger: #b3261e; --ok: #1e7b3a; --warn: #8a5a00;
  --bar: #3b7dd8; --line-chart: #d9822b;
  font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic", YuGothic, Meiryo, system-ui, sans-serif;
  color: var(--ink); background: var(--bg); line-height: 1.5;
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--card); padding: .5rem; z-index: 2; }
header.bar { background: #1d2a44; color: #fff; display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .6rem 1.2rem; }
header.bar a { color: #fff; text-decoration: none; }
header.bar .brand { font-weight: 700; margin-right: 1rem; }
header.bar nav ul { display: flex; flex-wrap: wrap; gap: 1rem; list-style: none; margin: 0; padding: 0; }
header.bar nav a[aria-current="page"] { text-decoration: underline; text-underline-offset: .3em; }
header.bar .who { margin-left: auto; display: flex; align-items: center; gap: .6rem; font-size: .9rem; }
header.bar .who button { background: transparent; color: #fff; border: 1px solid #8b97b3; }
/* The language switch closes the bar, after the session (which the auto margin pushes right), or alone at the right on the sign-in page. */
header.bar .who { order: 3; }
header.bar .languages { font-size: .9rem; order: 4; }
header.bar .brand + .languages { margin-left: auto; }
header.bar .languages ul { gap: .6rem; }
header.bar .languages a[aria-current="true"] { font-weight: 700; text-decoration: underline; text-underline-offset: .3em; }
main { max-width: 72rem; margin: 0 auto; padding: 1.2rem; }
h1 { font-size: 1.6rem; margin: .4rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 1.6rem 0 .6rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; margin-bottom: 1rem; }
.muted { color: var(--muted); }
.notice { border-left: 4px solid var(--ok); background: #eaf6ee; padding: .6rem .9rem; margin-bottom: 1rem; }
.warning { border-left: 4px solid var(--warn); background: #fff6e0; padding: .6rem .9rem; margin-bottom: 1rem; }
.error, .errors { border-left: 4px solid var(--danger); background: #fbeceb; padding: .6rem .9rem; margin-bottom: 1rem; }
.errors ul { margin: .3rem 0 0; padding-left: 1.2rem; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85rem; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; background: #e7eaf0; }
.status-open, .status-running, .status-sent, .status-delivered, .status-finished { background: #dff3e4; color: var(--ok); }
.status-draft, .status-scheduled, .status-queued, .status-paused { background: #fff3d6; color: var(--warn); }
.status-closed, .status-archived, .status-cancelled { background: #e7eaf0; color: var(--muted); }
.status-failed, .status-bounced, .status-returned { background: #fbeceb; color: var(--danger); }
form.inline { display: inline; }
label.inline { display: inline-block; margin-right: 0.9rem; font-weight: normal; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .6rem 0; }
.actions > form { display: flex; align-items: center; gap: .5rem; margin: 0; }
/* A table's actions cell stays a cell (as a flex box it drops out of the row and its border misaligns). */
td.actions { display: table-cell; margin: 0; }
td.actions > form { display: inline-flex; margin: 0 .4rem .3rem 0; }
/* Short values (a date, a one-word channel) are not broken a character a line in Japanese. */
.nowrap { white-space: nowrap; }
[hidden] { display: none !important; }
button:disabled { opacity: .5; cursor: not-allowed; }
pre.body { white-space: pre-wrap; font-family: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .9rem; }
button, .button { font: inherit; padding: .45rem .9rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-ink); cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: var(--card); color: var(--accent); }
button.danger { background: var(--card); color: var(--danger); border-color: var(--danger); }
.field { margin-bottom: .9rem; }
.field label, .field legend { display: block; font-weight: 600; margin-bottom: .2rem; }
.field .hint { font-size: .85rem; color: var(--muted); margin: .1rem 0 .3rem; }
.field .field-error { color: var(--danger); font-size: .9rem; margin: .2rem 0; }
.field.invalid input, .field.invalid select, .field.invalid textarea { border-color: var(--danger); outline: 1px solid var(--danger); }
input[type="text"], input[type="password"], input[type="number"], input[type="email"], input[type="tel"], input[type="url"], input[type="datetime-local"], input[type="date"], select, textarea {
  font: inherit; width: 100%; max-width: 40rem; padding: .4rem .5rem; border: 1px solid #aab1c0; border-radius: 6px; background: #fff;
}
textarea { min-height: 6rem; }
fieldset { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .9rem; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
figure.chart { margin: 0 0 1rem; }
figure.chart svg { width: 100%; height: auto; max-width: 760px; display: block; }
figure.chart figcaption { font-weight: 600; margin-bottom: .3rem; }
svg text { font-family: inherit; fill: var(--ink); font-size: 12px; }
svg .axis { stroke: #8a93a6; stroke-width: 1; }
svg .grid { stroke: #e3e6ec; stroke-width: 1; }
svg .bar, svg .legend-swatch { fill: var(--bar); }
svg .requested { fill: #b9cdea; }
svg .cumulative { fill: none; stroke: var(--line-chart); stroke-width: 2.5; }
svg .cumulative-dot { fill: var(--line-chart); }
svg .axis-label { fill: var(--muted); font-size: 11px; }
svg .legend-line { stroke: var(--line-chart); stroke-width: 2.5; }
details.data { margin-top: .4rem; }
details.translation { margin: .6rem 0; }
details.translation summary { font-weight: 600; cursor: pointer; margin-bottom: .4rem; }
details.data table { max-width: 40rem; }
/* The template editor: the letter's text needs room to be read as a letter. */
#template-form #f-body { min-height: 24rem; }
.letter-frame { width: 100%; height: 75vh; min-height: 32rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.progress-box progress { width: 100%; max-width: 40rem; height: 1.2rem; }
.counters { display: flex; flex-wrap: wrap; gap: 1.2rem; margin: .6rem 0; }
.counters div { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .4rem .8rem; min-width: 7rem; }
.counters b { display: block; font-size: 1.4rem; font-variant-numeric: tabular-nums; }
.login { max-width: 28rem; margin: 4rem auto; }
ul.choices { list-style: none; padding: 0; margin: .4rem 0; columns: 2 22rem; }
ul.choices li { margin: .25rem 0; break-inside: avoid; }
#attach-targets > button { margin-top: .6rem; }
ul.share-links { display: flex; flex-wrap: wrap; gap: 1rem; list-style: none; padding: 0; margin: .6rem 0; }
.copy-field input, .copy-field textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
.copy-field button { margin: .3rem .5rem 0 0; }
${supportMapCss}`;

const script = `'use strict';
// "Select all": ticks or clears every box of its form whose name starts with its prefix; shown only where this script runs.
(function () {
  var toggles = document.querySelectorAll('[data-select-all]');
  Array.prototype.forEach.call(toggles, function (toggle) {
    var form = toggle.form;
    if (!form) return;
    var prefix = toggle.getAttribute('data-select-all');
    var boxes = Array.prototype.filter.call(form.querySelectorAll('input[type="checkbox"]'), function (box) { return box.name && box.name.indexOf(prefix) === 0; });
    function reflect() {
      var ticked = boxes.filter(function (box) { return box.checked; }).length;
      toggle.checked = ticked > 0 && ticked === boxes.length;
      toggle.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    toggle.addEventListener('change', function () {
      boxes.forEach(function (box) { box.checked = toggle.checked; });
      reflect();
    });
    boxes.forEach(function (box) { box.addEventListener('change', reflect); });
    reflect();
    var holder = toggle.closest('[data-select-all-box]');
    if (holder) holder.hidden = false;
  });
})();
// "Copy": the read-only field's text to the clipboard; without the Clipboard API the button stays hidden and the text selectable.
(function () {
  if (!navigator.clipboard) return;
  Array.prototype.forEach.call(document.querySelectorAll('button[data-copy]'), function (button) {
    var field = document.getElementById(button.getAttribute('data-copy'));
    var status = document.getElementById(button.getAttribute('data-status'));
    if (!field || !status) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(field.value).then(
        function () { status.textContent = button.getAttribute('data-copied'); },
        function () { field.select(); status.textContent = button.getAttribute('data-failed'); }
      );
    });
  });
})();
(function () {
  var box = document.querySelector('[data-events]');
  if (!box || typeof EventSource === 'undefined') return;
  var finals = ['cancelled', 'finished', 'failed'];
  var source = new EventSource(box.getAttribute('data-events'));
  box.setAttribute('data-live', 'connecting');
  // The page's language: its status names and notes come with the page, numbers are grouped as on the page.
  var lang = document.documentElement.lang || 'en';
  var labels = {};
  try { labels = JSON.parse(box.getAttribute('data-status-labels') || '{}'); } catch (e) { labels = {}; }
  function statusName(status) { return Object.prototype.hasOwnProperty.call(labels, status) ? labels[status] : status; }
  var outcomeLabels = {};
  try { outcomeLabels = JSON.parse(box.getAttribute('data-outcome-labels') || '{}'); } catch (e) { outcomeLabels = {}; }
  function outcomeName(key) { return Object.prototype.hasOwnProperty.call(outcomeLabels, key) ? outcomeLabels[key] : key; }
  // A letters mailing that left targets out never reads as simply finished.
  function statusText(m, p) {
    if (m.status !== 'finished' || m.kind !== 'letters' || !(p.skipped > 0)) return statusName(m.status);
    if (p.skipped === 1) return box.getAttribute('data-text-skipped-one') || statusName(m.status);
    return (box.getAttribute('data-text-skipped-many') || '{count}').replace('{count}', p.skipped.toLocaleString(lang));
  }
  var zone = box.getAttribute('data-time-zone') || 'UTC';
  // As the page prints times: the language's medium date and short 24-hour time, then the zone.
  function time(iso) {
    try { return new Intl.DateTimeFormat(box.getAttribute('data-intl-locale') || lang, { timeZone: zone, dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' }).format(new Date(iso)) + ' (' + zone + ')'; } catch (e) { return iso; }
  }
  function setTime(name, iso) {
    if (!iso) return;
    var nodes = document.querySelectorAll('[data-field="' + name + '"]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = time(iso);
  }
  function setOutcomes(targets) {
    var table = box.querySelector('[data-outcomes] tbody');
    if (!table || !targets) return;
    while (table.firstChild) table.removeChild(table.firstChild);
    for (var i = 0; i < targets.length; i++) {
      var t = targets[i];
      var row = document.createElement('tr');
      row.setAttribute('data-target', t.targetId); row.setAttribute('data-outcome', t.outcome);
      var name = document.createElement('td'); name.textContent = t.name;
      var outcome = document.createElement('td');
      var text = outcomeName(t.outcome);
      if (t.reason) text = (outcomeLabels.because || '{outcome} ({reason})').replace('{outcome}', text).replace('{reason}', outcomeName(t.reason));
      else if (t.email) {
        // As the page says it: the email's state beside "by email", or the time a queued one waits for.
        var state = t.email.notBefore ? (outcomeLabels.emailWaitsUntil || '{time}').replace('{time}', time(t.email.notBefore)) : outcomeName('email_' + t.email.status);
        text = (outcomeLabels.emailState || '{outcome}: {state}').replace('{outcome}', text).replace('{state}', state);
      }
      outcome.textContent = text;
      row.appendChild(name); row.appendChild(outcome); table.appendChild(row);
    }
    var none = box.querySelector('[data-no-outcomes]');
    if (none) none.hidden = targets.length > 0;
  }
  function set(name, value) {
    var nodes = box.querySelectorAll('[data-field="' + name + '"]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = typeof value === 'number' ? value.toLocaleString(lang) : String(value);
  }
  source.addEventListener('progress', function (event) {
    var m;
    try { m = JSON.parse(event.data); } catch (e) { return; }
    var p = m.progress || {};
    // Skipped recipients are in neither the total nor what is done, so the share never passes 100 %.
    var done = Math.min((p.sent || 0) + (p.failed || 0), p.total || 0);
    set('status', statusText(m, p)); set('sent', p.sent || 0); set('failed', p.failed || 0);
    set('skipped', p.skipped || 0); set('total', p.total || 0); set('done', done);
    setTime('startedAt', m.startedAt); setTime('finishedAt', m.finishedAt); setOutcomes(m.targets);
    var status = box.querySelector('[data-field="status"]');
    if (status) status.className = 'status status-' + m.status;
    var bar = box.querySelector('progress');
    // A finished mailing is complete even when nothing was sent (a dry run only counts).
    var finished = m.status === 'finished';
    if (bar) {
      if (finished) { bar.max = 1; bar.value = 1; } else if (p.total > 0 || finals.indexOf(m.status) >= 0) { bar.max = Math.max(p.total, 1); bar.value = done; } else { bar.removeAttribute('value'); }
    }
    var out = box.querySelector('output');
    if (out) out.textContent = finished ? '100%' : p.total > 0 ? Math.round((done / p.total) * 100) + '%' : '—';
    box.setAttribute('data-live', 'live');
    box.setAttribute('data-updates', String(Number(box.getAttribute('data-updates') || '0') + 1));
    var note = box.querySelector('[data-live-note]');
    if (finals.indexOf(m.status) >= 0) {
      source.close();
      box.setAttribute('data-live', 'ended');
      var actions = box.querySelector('[data-actions]');
      if (actions) actions.hidden = true;
      if (note) note.textContent = (box.getAttribute('data-text-ended') || '{status}').replace('{status}', statusText(m, p));
    } else if (note) {
      note.textContent = box.getAttribute('data-text-live') || '';
    }
  });
  source.addEventListener('error', function () {
    if (source.readyState === EventSource.CLOSED) box.setAttribute('data-live', 'closed');
  });
})();
`;

/** FNV-1a: a short content hash for the asset names (not a security hash). */
function contentHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

export const adminCssPath = `/admin/assets/admin.${contentHash(css)}.css`;
export const adminScriptPath = `/admin/assets/admin.${contentHash(script)}.js`;

const assets = new Map([
  [adminCssPath, { body: css, type: 'text/css; charset=utf-8' }],
  [adminScriptPath, { body: script, type: 'text/javascript; charset=utf-8' }],
]);

/** `/admin/assets/*`: public (no personal data), immutable under their hashed names. */
export function adminAssetRoutes() {
  const routes = new Hono<AdminEnv>();
  routes.get('/assets/:file', (c) => {
    const asset = assets.get(c.req.path);
    if (!asset) return c.text('Not found', 404, { 'Cache-Control': 'no-store' });
    return c.body(asset.body, 200, { 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=31536000, immutable' });
  });
  return routes;
}
