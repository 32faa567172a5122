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
    rateCaption: 'Confirmation rate: requests made and confirmed per day',
    rateNote:
      'Each signing request waits for its confirmation link to be used; a day whose share confirmed drops while requests keep coming may be a day the email did not arrive. Requests are kept only while their link works, so this covers the days from {since}; the last day is still being confirmed.',
    noRequests: 'No signing requests in these days.',
    rateTitle: 'Signing requests and confirmations per day, and the share confirmed',
    rateDescription:
      'Light bars: requests made each day; dark bars: those of them confirmed (left axis). Line: the share confirmed (right axis). {days} days from {first} to {last} in {timeZone}: {requested} requests, {confirmed} confirmed ({rate}).',
    rateTooltip: '{date}: {requested} requests, {confirmed} confirmed ({rate})',
    rateAxis: 'Confirmed (%)',
    requestedLegend: 'requests',
    confirmedLegend: 'confirmed',
    rateLegend: 'rate',
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
    rateCaption: '確認率：日ごとの署名の申し込みと確認',
    rateNote:
      '署名の申し込みは、確認リンクが使われるまで確定しません。申し込みが続いているのに確認の割合が下がった日は、確認メールが届いていない可能性があります。申し込みはリンクの有効期間中しか保存されないため、{since}以降の日を表示しています。最終日はまだ確認の途中です。',
    noRequests: 'この期間に署名の申し込みはありません。',
    rateTitle: '日ごとの署名の申し込み数と確認数、および確認の割合',
    rateDescription:
      '薄い棒：各日の申し込み数。濃い棒：そのうち確認された数（左の軸）。線：確認の割合（右の軸）。{timeZone}での{first}から{last}までの{days}日間：申し込み{requested}件、確認{confirmed}件（{rate}）。',
    rateTooltip: '{date}：申し込み{requested}件、確認{confirmed}件（{rate}）',
    rateAxis: '確認の割合（%）',
    requestedLegend: '申し込み',
    confirmedLegend: '確認済み',
    rateLegend: '確認率',
  },
);
