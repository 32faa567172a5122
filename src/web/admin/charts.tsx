/**
 * Server-side SVG charts for the campaign page: no library and no script, so
 * they show without JavaScript and print. Each has a <title> and <desc> for
 * screen readers and a data table in a <details> beside it. Text takes the
 * page's CJK-capable font stack from the stylesheet.
 */

import type { Child } from 'hono/jsx';
import { interpolate } from '../i18n/index.js';
import { chartTexts } from './i18n/charts.js';
import { type DashboardLanguage, formatDate, formatNumber, intlLocale, useDashboardLanguage, useTexts } from './i18n/texts.js';

export type DayCount = { date: string; confirmed: number; cumulative: number };
export type LabelledCount = { label: string; count: number };

const DAY_MS = 86_400_000;
/** At most this many days are drawn (the last ones); the table keeps them all. */
const MAX_DAYS = 366;

/** A round top for an axis at or above `max` (1, 2, 5 × 10ⁿ). */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

/** Evenly spaced whole-number ticks from 0 to a `niceMax` value: 0–5 by 1, 0–20 by 5, 0–50 by 10… */
function ticks(max: number): number[] {
  const leading = max / 10 ** Math.floor(Math.log10(max));
  const steps = max <= 5 ? max : leading === 2 ? 4 : 5;
  return Array.from({ length: steps + 1 }, (_, i) => (max / steps) * i);
}

/** Every day from the first to the last with data, zero where nobody confirmed, so the time axis is even. */
export function fillDays(byDay: DayCount[]): DayCount[] {
  const first = byDay[0];
  const last = byDay[byDay.length - 1];
  if (!first || !last) return [];
  const known = new Map(byDay.map((d) => [d.date, d]));
  const days: DayCount[] = [];
  let cumulative = 0;
  for (let t = Date.parse(`${first.date}T00:00:00Z`); t <= Date.parse(`${last.date}T00:00:00Z`); t += DAY_MS) {
    const date = new Date(t).toISOString().slice(0, 10);
    const found = known.get(date);
    cumulative = found ? found.cumulative : cumulative;
    days.push({ date, confirmed: found?.confirmed ?? 0, cumulative });
  }
  return days.slice(-MAX_DAYS);
}

/** A day on the time axis, short: 2 Sept / 9月2日 (the day is already the campaign's, so read in UTC). */
const axisDay = (language: DashboardLanguage, date: string) =>
  new Intl.DateTimeFormat(intlLocale[language], { timeZone: 'UTC', month: 'short', day: 'numeric' }).format(new Date(`${date}T00:00:00Z`));

/** A whole day (`YYYY-MM-DD`, already the campaign's) in the viewer's language. */
const fullDay = (language: DashboardLanguage, date: string) => formatDate(language, `${date}T00:00:00Z`);

/** Where the day charts draw: one slot a day, a count axis on the left and a second axis on the right. */
type DayFrame = ReturnType<typeof dayFrame>;

/** The geometry both day charts share, for `dayCount` days and bars up to `barMax`. */
function dayFrame(dayCount: number, barMax: number) {
  const width = 760;
  const height = 300;
  const margin = { top: 28, right: 64, bottom: 56, left: 56 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const slot = dayCount ? plotW / dayCount : plotW;
  const barW = Math.max(1, Math.min(40, slot * 0.7));
  const x = (i: number) => margin.left + slot * i + slot / 2;
  /** The height of a share of the plot (0 at the bottom, 1 at the top), for the right axis. */
  const yShare = (share: number) => margin.top + plotH - share * plotH;
  const yBar = (v: number) => yShare(v / barMax);
  /** A day's bar up to `v`, as the attributes of its <rect>. */
  const bar = (i: number, v: number) => ({ x: (x(i) - barW / 2).toFixed(1), y: yBar(v).toFixed(1), width: barW.toFixed(1), height: (margin.top + plotH - yBar(v)).toFixed(1) });
  return { width, height, margin, plotW, plotH, barMax, x, yShare, yBar, bar };
}

/**
 * A day chart's <svg> (at least one day): its title and description, the count gridlines and ticks on the left, the
 * right axis's ticks, the plot (children) over them, then the axes, the days, the axis titles and
 * the legend on top.
 */
function DayChartSvg(props: {
  id: string;
  frame: DayFrame;
  days: { date: string }[];
  timeZone: string;
  title: string;
  /** The description's template: the chart fills in {days}, {first}, {last} and {timeZone}, `descriptionValues` the rest. */
  description: string;
  descriptionValues: Record<string, string>;
  rightTicks: { share: number; label: string }[];
  rightAxis: string;
  /** Above the plot, left to right: a swatch (a bar's class) or the line, `at` from the plot's left edge. */
  legend: { mark: 'legend-swatch' | 'legend-swatch requested' | 'legend-line'; at: number; label: string }[];
  children: Child;
}) {
  const t = useTexts(chartTexts);
  const language = useDashboardLanguage();
  const { frame, days } = props;
  const { width, height, margin, plotW, plotH } = frame;
  const labelEvery = Math.max(1, Math.ceil(days.length / 8));
  const titleId = `${props.id}-title`;
  const descId = `${props.id}-desc`;
  return (
    <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${titleId} ${descId}`} id={props.id}>
      <title id={titleId}>{props.title}</title>
      <desc id={descId}>
        {interpolate(props.description, {
          days: formatNumber(language, days.length),
          first: fullDay(language, days[0]!.date),
          last: fullDay(language, days[days.length - 1]!.date),
          timeZone: props.timeZone,
          ...props.descriptionValues,
        })}
      </desc>
      {ticks(frame.barMax).map((v) => (
        <g>
          <line class="grid" x1={margin.left} x2={margin.left + plotW} y1={frame.yBar(v)} y2={frame.yBar(v)} />
          <text x={margin.left - 6} y={frame.yBar(v) + 4} text-anchor="end">
            {formatNumber(language, v)}
          </text>
        </g>
      ))}
      {props.rightTicks.map((tick) => (
        <text x={margin.left + plotW + 6} y={frame.yShare(tick.share) + 4} text-anchor="start">
          {tick.label}
        </text>
      ))}
      {props.children}
      <line class="axis" x1={margin.left} x2={margin.left + plotW} y1={margin.top + plotH} y2={margin.top + plotH} />
      <line class="axis" x1={margin.left} x2={margin.left} y1={margin.top} y2={margin.top + plotH} />
      <line class="axis" x1={margin.left + plotW} x2={margin.left + plotW} y1={margin.top} y2={margin.top + plotH} />
      {days.map((d, i) =>
        i % labelEvery === 0 || i === days.length - 1 ? (
          <text x={frame.x(i)} y={margin.top + plotH + 16} text-anchor="middle">
            {axisDay(language, d.date)}
          </text>
        ) : null,
      )}
      <text class="axis-label" x={margin.left + plotW / 2} y={height - 10} text-anchor="middle">
        {interpolate(t.dayAxis, { timeZone: props.timeZone })}
      </text>
      <text class="axis-label" x={14} y={margin.top + plotH / 2} text-anchor="middle" transform={`rotate(-90 14 ${margin.top + plotH / 2})`}>
        {t.perDayAxis}
      </text>
      <text class="axis-label" x={width - 10} y={margin.top + plotH / 2} text-anchor="middle" transform={`rotate(90 ${width - 10} ${margin.top + plotH / 2})`}>
        {props.rightAxis}
      </text>
      {props.legend.map((entry) => {
        const x = margin.left + entry.at;
        return (
          <>
            {entry.mark === 'legend-line' ? <line class={entry.mark} x1={x} x2={x + 20} y1={13} y2={13} /> : <rect class={entry.mark} x={x} y={8} width={12} height={10} />}
            <text x={x + (entry.mark === 'legend-line' ? 26 : 18)} y={17}>
              {entry.label}
            </text>
          </>
        );
      })}
    </svg>
  );
}

/** Confirmed signatures per day (bars, left axis) and the running total (line, right axis). */
export function SignaturesOverTimeChart(props: { id: string; byDay: DayCount[]; timeZone: string }) {
  const t = useTexts(chartTexts);
  const language = useDashboardLanguage();
  const fmt = (n: number) => formatNumber(language, n);
  const days = fillDays(props.byDay);
  const frame = dayFrame(days.length, niceMax(Math.max(0, ...days.map((d) => d.confirmed))));
  const lineMax = niceMax(Math.max(0, ...days.map((d) => d.cumulative)));
  const yLine = (v: number) => frame.yShare(v / lineMax);
  const total = days[days.length - 1]?.cumulative ?? 0;
  const path = days.map((d, i) => `${i === 0 ? 'M' : 'L'}${frame.x(i).toFixed(1)},${yLine(d.cumulative).toFixed(1)}`).join(' ');
  return (
    <figure class="chart">
      <figcaption>{t.overTimeCaption}</figcaption>
      {days.length === 0 ? (
        <p class="muted">{t.noneYet}</p>
      ) : (
        <DayChartSvg
          id={props.id}
          frame={frame}
          days={days}
          timeZone={props.timeZone}
          title={t.overTimeTitle}
          description={t.overTimeDescription}
          descriptionValues={{ total: fmt(total) }}
          rightTicks={ticks(lineMax).map((v) => ({ share: v / lineMax, label: fmt(v) }))}
          rightAxis={t.totalAxis}
          legend={[
            { mark: 'legend-swatch', at: 0, label: t.perDayLegend },
            { mark: 'legend-line', at: 90, label: t.totalLegend },
          ]}
        >
          {days.map((d, i) => (
            <rect class="bar day" data-date={d.date} data-count={d.confirmed} {...frame.bar(i, d.confirmed)}>
              <title>{interpolate(t.dayTooltip, { date: fullDay(language, d.date), count: fmt(d.confirmed), total: fmt(d.cumulative) })}</title>
            </rect>
          ))}
          <path class="cumulative" d={path} />
          {days.length === 1 ? <circle class="cumulative-dot" cx={frame.x(0)} cy={yLine(days[0]!.cumulative)} r="4" /> : null}
        </DayChartSvg>
      )}
      <details class="data">
        <summary>{t.dataTable}</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{interpolate(t.dayAxis, { timeZone: props.timeZone })}</th>
              <th scope="col" class="num">
                {t.confirmed}
              </th>
              <th scope="col" class="num">
                {t.total}
              </th>
            </tr>
          </thead>
          <tbody>
            {props.byDay.map((d) => (
              <tr>
                <td>{fullDay(language, d.date)}</td>
                <td class="num">{fmt(d.confirmed)}</td>
                <td class="num">{fmt(d.cumulative)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

export type DayRequests = { date: string; requested: number; confirmed: number; rate: number };

/** Every day from the first to the last with requests, none where nobody asked, so the time axis is even and a day without requests shows. */
export function fillRequestDays(byDay: DayRequests[]): DayRequests[] {
  const first = byDay[0];
  const last = byDay[byDay.length - 1];
  if (!first || !last) return [];
  const known = new Map(byDay.map((d) => [d.date, d]));
  const days: DayRequests[] = [];
  for (let t = Date.parse(`${first.date}T00:00:00Z`); t <= Date.parse(`${last.date}T00:00:00Z`); t += DAY_MS) {
    const date = new Date(t).toISOString().slice(0, 10);
    days.push(known.get(date) ?? { date, requested: 0, confirmed: 0, rate: 0 });
  }
  return days.slice(-MAX_DAYS);
}

const percent = (language: DashboardLanguage, rate: number) => new Intl.NumberFormat(intlLocale[language], { style: 'percent', maximumFractionDigits: 0 }).format(rate);

/**
 * Signing requests made per day (light bars) and how many of them were
 * confirmed (dark bars, left axis), with the share confirmed (line, right
 * axis, 0–100 %): a day whose share drops while requests keep coming is a day
 * the confirmation mail did not arrive.
 */
export function ConfirmationRateChart(props: { id: string; since: string; byDay: DayRequests[]; timeZone: string }) {
  const t = useTexts(chartTexts);
  const language = useDashboardLanguage();
  const fmt = (n: number) => formatNumber(language, n);
  const days = fillRequestDays(props.byDay);
  const frame = dayFrame(days.length, niceMax(Math.max(0, ...days.map((d) => d.requested))));
  const requested = days.reduce((sum, d) => sum + d.requested, 0);
  const confirmed = days.reduce((sum, d) => sum + d.confirmed, 0);
  // The line joins the days with requests only: a day nobody asked has no rate, not a rate of 0.
  const asked = days.map((d, i) => ({ d, i })).filter(({ d }) => d.requested > 0);
  const path = asked.map(({ d, i }, n) => `${n === 0 ? 'M' : 'L'}${frame.x(i).toFixed(1)},${frame.yShare(d.rate).toFixed(1)}`).join(' ');
  return (
    <figure class="chart">
      <figcaption>{t.rateCaption}</figcaption>
      <p class="muted">{interpolate(t.rateNote, { since: fullDay(language, props.since) })}</p>
      {days.length === 0 ? (
        <p class="muted">{t.noRequests}</p>
      ) : (
        <DayChartSvg
          id={props.id}
          frame={frame}
          days={days}
          timeZone={props.timeZone}
          title={t.rateTitle}
          description={t.rateDescription}
          descriptionValues={{ requested: fmt(requested), confirmed: fmt(confirmed), rate: percent(language, requested ? confirmed / requested : 0) }}
          rightTicks={[0, 0.25, 0.5, 0.75, 1].map((rate) => ({ share: rate, label: percent(language, rate) }))}
          rightAxis={t.rateAxis}
          legend={[
            { mark: 'legend-swatch requested', at: 0, label: t.requestedLegend },
            { mark: 'legend-swatch', at: 110, label: t.confirmedLegend },
            { mark: 'legend-line', at: 220, label: t.rateLegend },
          ]}
        >
          {days.map((d, i) => (
            <g>
              <rect class="bar requested" data-date={d.date} data-requested={d.requested} {...frame.bar(i, d.requested)} />
              <rect class="bar confirmed" data-date={d.date} data-confirmed={d.confirmed} {...frame.bar(i, d.confirmed)}>
                <title>{interpolate(t.rateTooltip, { date: fullDay(language, d.date), requested: fmt(d.requested), confirmed: fmt(d.confirmed), rate: d.requested ? percent(language, d.rate) : '–' })}</title>
              </rect>
            </g>
          ))}
          <path class="cumulative" d={path} />
          {asked.length === 1 ? <circle class="cumulative-dot" cx={frame.x(asked[0]!.i)} cy={frame.yShare(asked[0]!.d.rate)} r="4" /> : null}
        </DayChartSvg>
      )}
      <details class="data">
        <summary>{t.dataTable}</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{interpolate(t.dayAxis, { timeZone: props.timeZone })}</th>
              <th scope="col" class="num">
                {t.requestedLegend}
              </th>
              <th scope="col" class="num">
                {t.confirmedLegend}
              </th>
              <th scope="col" class="num">
                {t.rateLegend}
              </th>
            </tr>
          </thead>
          <tbody>
            {props.byDay.map((d) => (
              <tr>
                <td>{fullDay(language, d.date)}</td>
                <td class="num">{fmt(d.requested)}</td>
                <td class="num">{fmt(d.confirmed)}</td>
                <td class="num">{percent(language, d.rate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

/** Shortens a label for the chart by characters (not UTF-16 units, so CJK and emoji stay whole); the table keeps it whole. */
function shorten(label: string, max: number): string {
  const chars = Array.from(label);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : label;
}

/** Horizontal bars, largest first (the first `limit`; the table has every row). */
export function HorizontalBarChart(props: { id: string; caption: string; labelHeading: string; rows: LabelledCount[]; limit?: number }) {
  const t = useTexts(chartTexts);
  const language = useDashboardLanguage();
  const fmt = (n: number) => formatNumber(language, n);
  const shown = props.rows.slice(0, props.limit ?? 12);
  // Drawn for a half-width column, so the labels stay as large as the page text.
  const width = 440;
  const rowH = 28;
  const margin = { top: 8, right: 40, bottom: 34, left: 150 };
  const plotW = width - margin.left - margin.right;
  const height = margin.top + shown.length * rowH + margin.bottom;
  const max = niceMax(Math.max(0, ...shown.map((r) => r.count)));
  const xOf = (v: number) => margin.left + (v / max) * plotW;
  const titleId = `${props.id}-title`;
  const descId = `${props.id}-desc`;
  const total = props.rows.reduce((sum, r) => sum + r.count, 0);
  return (
    <figure class="chart">
      <figcaption>{props.caption}</figcaption>
      {shown.length === 0 ? (
        <p class="muted">{t.noneYet}</p>
      ) : (
        <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${titleId} ${descId}`} id={props.id}>
          <title id={titleId}>{props.caption}</title>
          <desc id={descId}>
            {interpolate(t.barsDescription, {
              count: fmt(props.rows.length),
              what: props.labelHeading.toLowerCase(),
              total: fmt(total),
              rows: shown.map((r) => `${r.label}: ${fmt(r.count)}`).join(', '),
            })}
          </desc>
          {ticks(max).map((t) => (
            <g>
              <line class="grid" x1={xOf(t)} x2={xOf(t)} y1={margin.top} y2={margin.top + shown.length * rowH} />
              <text x={xOf(t)} y={margin.top + shown.length * rowH + 14} text-anchor="middle">
                {fmt(t)}
              </text>
            </g>
          ))}
          {shown.map((r, i) => (
            <g>
              <text x={margin.left - 8} y={margin.top + i * rowH + rowH / 2 + 4} text-anchor="end">
                {shorten(r.label, 12)}
              </text>
              <rect class="bar hbar" data-count={r.count} x={margin.left} y={margin.top + i * rowH + 4} width={Math.max(1, xOf(r.count) - margin.left).toFixed(1)} height={rowH - 8}>
                <title>{`${r.label}: ${fmt(r.count)}`}</title>
              </rect>
              <text x={xOf(r.count) + 6} y={margin.top + i * rowH + rowH / 2 + 4}>
                {fmt(r.count)}
              </text>
            </g>
          ))}
          <line class="axis" x1={margin.left} x2={margin.left} y1={margin.top} y2={margin.top + shown.length * rowH} />
          <text class="axis-label" x={margin.left + plotW / 2} y={height - 4} text-anchor="middle">
            {t.confirmedSignatures}
          </text>
        </svg>
      )}
      <details class="data">
        <summary>{t.dataTable}</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{props.labelHeading}</th>
              <th scope="col" class="num">
                {t.confirmed}
              </th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr>
                <td>{r.label}</td>
                <td class="num">{fmt(r.count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
