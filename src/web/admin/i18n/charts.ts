import { catalogue } from './texts.js';

/** The campaign page's charts: captions, axes, legends, and the texts screen readers get. */
export const chartTexts = catalogue(
  {
    overTimeCaption: 'Confirmed signatures over time',
    noneYet: 'No confirmed signatures yet.',
    overTimeTitle: 'Confirmed signatures per day and in total',
    overTimeDescription:
      'Bars: signatures confirmed each day (left axis), {days} days from {first} to {last} in {timeZone}. Line: running total (right axis), {total} in all.',
    dayTooltip: '{date}: {count} (total {total})',
    dayAxis: 'Day ({timeZone})',
    perDayAxis: 'Per day',
    totalAxis: 'Total',
    perDayLegend: 'per day',
    totalLegend: 'total',
    dataTable: 'Data table',
    confirmed: 'Confirmed',
    total: 'Total',
    barsDescription: '{count} {what} values, {total} confirmed signatures. {rows}',
    confirmedSignatures: 'Confirmed signatures',
  },
  {
    overTimeCaption: '確認済みの署名の推移',
    noneYet: '確認済みの署名はまだありません。',
    overTimeTitle: '日ごとの確認済みの署名数と累計',
    overTimeDescription: '棒：各日に確認された署名数（左の軸）。{timeZone}での{first}から{last}までの{days}日間。線：累計（右の軸）。合計{total}。',
    dayTooltip: '{date}：{count}（累計 {total}）',
    dayAxis: '日付（{timeZone}）',
    perDayAxis: '日ごと',
    totalAxis: '累計',
    perDayLegend: '日ごと',
    totalLegend: '累計',
    dataTable: 'データの表',
    confirmed: '確認済み',
    total: '累計',
    barsDescription: '{what}：{count}件、確認済みの署名{total}。{rows}',
    confirmedSignatures: '確認済みの署名',
  },
);
