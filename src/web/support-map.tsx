import { regionName } from '../lib/regions.js';
import type { SupportMap as SupportMapData } from '../services/support-map.js';
import { countryName } from './i18n/countries.js';
import { htmlLang, interpolate, type PageLanguage } from './i18n/index.js';
import { supportMapTexts } from './i18n/support-map.js';

/**
 * Japan's 47 prefectures as a tile grid, one square each at the place Japanese newspapers give it
 * (Hokkaidō top right, Okinawa bottom left): [column, row]. No outlines to ship or draw, and a
 * small prefecture is as easy to see and point at as a large one.
 */
export const prefectureTiles: Record<string, readonly [number, number]> = {
  'JP-01': [13, 0],
  'JP-02': [13, 1],
  'JP-03': [13, 2],
  'JP-04': [13, 3],
  'JP-05': [12, 2],
  'JP-06': [12, 3],
  'JP-07': [12, 4],
  'JP-08': [13, 5],
  'JP-09': [12, 5],
  'JP-10': [11, 5],
  'JP-11': [11, 6],
  'JP-12': [13, 6],
  'JP-13': [12, 6],
  'JP-14': [11, 7],
  'JP-15': [11, 4],
  'JP-16': [10, 4],
  'JP-17': [9, 4],
  'JP-18': [8, 5],
  'JP-19': [10, 6],
  'JP-20': [10, 5],
  'JP-21': [9, 5],
  'JP-22': [10, 7],
  'JP-23': [9, 6],
  'JP-24': [9, 7],
  'JP-25': [8, 6],
  'JP-26': [7, 6],
  'JP-27': [7, 7],
  'JP-28': [6, 6],
  'JP-29': [8, 7],
  'JP-30': [7, 8],
  'JP-31': [5, 6],
  'JP-32': [4, 6],
  'JP-33': [5, 7],
  'JP-34': [4, 7],
  'JP-35': [3, 7],
  'JP-36': [5, 9],
  'JP-37': [5, 8],
  'JP-38': [4, 8],
  'JP-39': [4, 9],
  'JP-40': [2, 7],
  'JP-41': [1, 7],
  'JP-42': [0, 8],
  'JP-43': [1, 8],
  'JP-44': [2, 8],
  'JP-45': [2, 9],
  'JP-46': [1, 9],
  'JP-47': [0, 10],
};

const TILE = 44;
const STEP = 48;
const COLUMNS = 14;
const ROWS = 11;

/** Characters of a tile's label that fit its width unnarrowed. */
const LONG_LABEL = 7;

/** How many shades the map uses above the minimum. */
const SHADES = 4;

/**
 * The lowest count of each shade, from the minimum to the largest count on a geometric scale (a
 * campaign's support is usually far larger in Tokyo than anywhere else, and a linear scale would
 * paint every other prefecture alike). Shades that would hold no whole number drop out.
 */
export function shadeFloors(minimum: number, largest: number): number[] {
  const top = Math.max(minimum, largest);
  const floors = Array.from({ length: SHADES }, (_, index) => Math.ceil(minimum * (top / minimum) ** (index / SHADES)));
  return floors.filter((floor, index) => floor <= top && floors.indexOf(floor) === index);
}

/** A count's shade: 1 for the lowest, up to the number of floors; 0 for a prefecture not shown on its own. */
export function shadeOf(count: number | undefined, floors: readonly number[]): number {
  if (count === undefined) return 0;
  let shade = 0;
  for (const [index, floor] of floors.entries()) if (count >= floor) shade = index + 1;
  return shade;
}

/** A prefecture's name on its tile: without 都/府/県 (道 is part of 北海道), as tile maps write them. */
function tileLabel(code: string, language: PageLanguage): string {
  const name = regionName(code, language);
  if (code === 'JP-01') return name;
  // The suffixes as escapes: esbuild writes a regular expression's characters as they are, and the bundle stays ASCII (test/build/production.test.ts).
  if (language === 'ja' || language === 'zh') return name.replace(/[\u90fd\u5e9c\u770c]$/, '');
  if (language === 'ko') return name.replace(/(\ud604|\ubd80|\ub3c4)$/, '');
  return name;
}

/** One row of a `CountTable`: its place's name and its count as the page writes it. */
type CountRow = { name: string; count: string };

/**
 * A table of supporters by place (prefectures or countries), with the merged places last as one
 * "other" row. Each row carries its place's code in `dataAttribute` (`other` for the merged row),
 * so a row is found by its code in any page language.
 */
function CountTable(props: {
  id: string;
  caption: string;
  heading: string;
  supporters: string;
  dataAttribute: 'data-region' | 'data-country';
  rows: (CountRow & { key: string })[];
  other: CountRow | null;
}) {
  const row = (key: string, line: CountRow) => (
    <tr {...{ [props.dataAttribute]: key }}>
      <th scope="row">{line.name}</th>
      <td class="num">{line.count}</td>
    </tr>
  );
  return (
    <table id={props.id}>
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">{props.heading}</th>
          <th scope="col" class="num">
            {props.supporters}
          </th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((line) => row(line.key, line))}
        {props.other ? row('other', props.other) : null}
      </tbody>
    </table>
  );
}

/**
 * The map of support: Japan's prefectures as a tile grid in inline SVG (no script, no geometry),
 * shaded by confirmed supporters, and beside it the tables that carry the figures (prefectures,
 * then countries). Only what `SupportMapData` names is shown: a prefecture below the minimum
 * looks exactly like one with nobody, and says only "fewer than N". Renders nothing while no
 * prefecture or country has reached the minimum.
 */
export function SupportMap(props: { map: SupportMapData; language: PageLanguage; id?: string; /** The page's own box class (the dashboard's `card`). */ boxClass?: string }) {
  const { map, language } = props;
  if (map.countries.length === 0) return null;
  const t = supportMapTexts[language];
  const id = props.id ?? 'support-map';
  const number = (value: number) => value.toLocaleString(htmlLang[language]);
  const minimum = number(map.minimum);
  const shown = new Map(map.prefectures.map((line) => [line.code, line.count]));
  const largest = Math.max(0, ...shown.values());
  const floors = shown.size > 0 ? shadeFloors(map.minimum, largest) : [];
  const japanShown = map.prefectures.length > 0 || map.otherPrefectures > 0;
  const legend = [
    { shade: 0, label: interpolate(t.legendMerged, { minimum }) },
    ...floors.map((floor, index) => {
      const last = index === floors.length - 1 ? largest : floors[index + 1]! - 1;
      return { shade: index + 1, label: floor === last ? number(floor) : `${number(floor)}–${number(last)}` };
    }),
  ];
  return (
    <section class={props.boxClass ? `support-map ${props.boxClass}` : 'support-map'} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t.heading}</h2>
      <div class="support-map-body">
        {japanShown ? (
          <svg viewBox={`0 0 ${COLUMNS * STEP} ${ROWS * STEP}`} role="img" aria-label={t.mapLabel} xmlns="http://www.w3.org/2000/svg">
            {legend.map((entry, index) => (
              <g class={`tile k${entry.shade}`}>
                <rect x={0} y={index * 26} width={20} height={20} rx={3} />
                <text class="legend" x={28} y={index * 26 + 15}>
                  {entry.label}
                </text>
              </g>
            ))}
            {Object.entries(prefectureTiles).map(([code, [column, row]]) => {
              const count = shown.get(code);
              const name = regionName(code, language);
              const label = tileLabel(code, language);
              const x = column * STEP;
              const y = row * STEP;
              return (
                <g class={`tile k${shadeOf(count, floors)}`} data-region={code}>
                  <title>{count === undefined ? interpolate(t.tileMerged, { name, minimum }) : interpolate(t.tileCount, { name, count: number(count) })}</title>
                  <rect x={x} y={y} width={TILE} height={TILE} rx={4} />
                  <text
                    class={language === 'en' ? 'name latin' : 'name'}
                    x={x + TILE / 2}
                    y={y + (count === undefined ? 26 : 18)}
                    // Kagoshima, Yamanashi…: a long romanised name is narrowed to its tile rather than spilling over the next.
                    {...(label.length > LONG_LABEL ? { textLength: TILE - 4, lengthAdjust: 'spacingAndGlyphs' } : {})}
                  >
                    {label}
                  </text>
                  {count === undefined ? null : (
                    <text class="count" x={x + TILE / 2} y={y + 35}>
                      {number(count)}
                    </text>
                  )}
                </g>
              );
            })}
          </svg>
        ) : null}
        <div class="support-tables">
          {japanShown ? (
            <CountTable
              id={`${id}-prefectures`}
              caption={t.prefectureCaption}
              heading={t.prefecture}
              supporters={t.supporters}
              dataAttribute="data-region"
              rows={map.prefectures.map((line) => ({ key: line.code, name: regionName(line.code, language), count: number(line.count) }))}
              other={map.otherPrefectures > 0 ? { name: t.otherPrefectures, count: number(map.otherPrefectures) } : null}
            />
          ) : null}
          <CountTable
            id={`${id}-countries`}
            caption={t.countryCaption}
            heading={t.country}
            supporters={t.supporters}
            dataAttribute="data-country"
            rows={map.countries.map((line) => ({ key: line.country, name: countryName(line.country, language), count: number(line.count) }))}
            other={map.otherCountries > 0 ? { name: t.otherCountries, count: number(map.otherCountries) } : null}
          />
        </div>
      </div>
      <p class="support-map-note">{interpolate(t.mergedNote, { minimum })}</p>
    </section>
  );
}

/**
 * The map's rules, added to the supporter pages' and the dashboard's stylesheets (neither allows
 * inline style). Text colours meet 4.5:1 on their shade; the pale tiles keep a border of 3:1.
 */
export const supportMapCss = `
.support-map-body { display: flex; flex-wrap: wrap; gap: 1rem 1.5rem; align-items: flex-start; }
.support-map svg { flex: 1 1 32rem; max-width: 46rem; min-width: 0; height: auto; }
.support-map .support-tables { flex: 1 1 16rem; display: flex; flex-wrap: wrap; gap: 0 1.5rem; align-items: flex-start; }
.support-map table { flex: 1 1 14rem; border-collapse: collapse; margin: 0 0 1rem; }
.support-map caption { text-align: left; font-weight: 600; margin-bottom: 0.3rem; }
.support-map th, .support-map td { padding: 0.2rem 0.5rem; border-bottom: 1px solid #d5d8dd; text-align: left; font-weight: 400; }
.support-map thead th { font-weight: 600; }
.support-map .num { text-align: right; font-variant-numeric: tabular-nums; }
.support-map-note { font-size: 0.9rem; color: #4a4f57; }
.support-map .tile rect { fill: #f1f3f5; stroke: #6b7280; stroke-width: 1; }
.support-map .k1 rect { fill: #dbeafe; stroke: #1e3a8a; }
.support-map .k2 rect { fill: #93c5fd; stroke: #1e3a8a; }
.support-map .k3 rect { fill: #2563eb; stroke: #1e3a8a; }
.support-map .k4 rect { fill: #1e3a8a; stroke: #1e3a8a; }
.support-map svg text { font-family: inherit; font-size: 12px; text-anchor: middle; fill: #1e3a8a; }
.support-map svg text.latin { font-size: 8.5px; }
.support-map svg text.count { font-size: 13px; font-weight: 700; }
.support-map svg text.legend { text-anchor: start; font-size: 13px; fill: #1b1b1f; }
.support-map .k0 text.name { fill: #374151; }
.support-map .k3 text.name, .support-map .k3 text.count, .support-map .k4 text.name, .support-map .k4 text.count { fill: #ffffff; }
`;
