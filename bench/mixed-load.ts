/**
 * Signing under mixed load (issue #10): 100 concurrent signers for 60 s on
 * 127.0.0.1 while an update mailing to 20,000 supporters runs and a letter
 * with a 100,000-name appendix renders, beside the same signing load alone.
 *
 *   npx tsx bench/mixed-load.ts [--seconds 60] [--connections 100] [--rate 100] [--supporters 20000] [--names 100000]
 *
 * --rate: signatures a second from all the signers together (a surge: PRODUCT.md's is 1,500 in
 * a minute, 25 a second; the default is four times that); 0 signs as fast as the server answers,
 * which outruns what any relay sends and so measures intake, not the event day.
 *
 * The real `signet serve` runs in a child process (durable commits, the mail
 * sender and mailing runner on, every confirmation email sent too), its SMTP
 * server in another child process that counts messages per recipient. The
 * bench seeds the supporters and the named signatures straight into the
 * database (as confirmed signatures), then measures:
 *   0. the update mailing alone (to a second campaign's as many supporters),
 *      nothing else running: its time is the yardstick for 2;
 *   1. signing alone, for --seconds;
 *   2. signing for --seconds while the update mailing (scheduled to start
 *      with it) is sent and the letter is generated through the API. Every
 *      5 s it samples the mailing's sent count and the signers' confirmation
 *      emails received, so the report shows whether the two progress side
 *      by side (the outbox's lanes) or one waits for the other. Each of these
 *      signers' confirmation emails is timed from the signature's 202 to its
 *      arrival at the SMTP server (waiting up to 2 minutes after the signers
 *      stop for the last ones).
 * It fails unless there were no errors, every acknowledged signature was
 * stored, both mailings finished with every supporter mailed exactly once,
 * and no address received anything twice; it warns when the mailing beside
 * the signers took more than 1.5 × its time alone or a confirmation email's
 * p99 was above 60 s (issue #19).
 */
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { newId } from '../src/lib/ids.js';
import { forkBenchChild } from './children.js';
import { startMailingBenchServer } from './server.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    connections: { type: 'string', default: '100' },
    rate: { type: 'string', default: '100' },
    supporters: { type: 'string', default: '20000' },
    names: { type: 'string', default: '100000' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const rate = Number(values.rate);
const supporters = Number(values.supporters);
const names = Number(values.names);

type SmtpReport = { accepted: number; recipients: number; duplicates: number; matching: number };
const smtp = await forkBenchChild('mixed-smtp-child.ts');
/** When each address starting with `prefix` first received a message (epoch ms). */
const smtpArrivals = async (prefix: string) => new Map((await smtp.ask<{ arrivals: [string, number][] }>({ type: 'arrivals', prefix })).arrivals);
const smtpReport = (prefix: string) => smtp.ask<SmtpReport>({ type: 'report', prefix });

const server = await startMailingBenchServer('signet-mixed-', smtp.url, { PUBLIC_URL: 'http://signet.example' });
const { api, call, dir, databasePath } = server;

// --- Setup: a campaign to sign, one with supporters to update, one with a long appendix -------------
const target = await call('POST', '/targets', {
  name: 'H.E. the Ambassador',
  organisation: 'Embassy of the People’s Republic of China in Japan',
  kind: 'embassy',
  email: 'embassy@example.org',
  postalAddress: { lines: ['3-4-33 Moto-Azabu'], city: 'Minato-ku, Tokyo', postalCode: '106-0046', country: 'JP' },
  language: 'ja',
});
for (const slug of ['mixed-sign', 'mixed-update', 'mixed-alone', 'mixed-letter']) {
  await call('POST', '/campaigns', { slug, title: `Mixed load ${slug}`, locale: 'ja', timeZone: 'Asia/Tokyo', targetIds: [target.id] });
  await call('PATCH', `/campaigns/${slug}`, { status: 'open' });
}

const families = ['佐藤', '鈴木', '高橋', '김', '이', 'García', 'Müller', '王', '陳', 'Nguyễn'];
const givens = ['花子', '太郎', '민준', '서연', 'José', 'Zoë', '伟', '志明', 'An', 'さくら'];
const places: [string, string, string][] = [['東京', 'JP-13', 'JP'], ['大阪', 'JP-27', 'JP'], ['서울', 'KR-11', 'KR'], ['São Paulo', 'BR-SP', 'BR'], ['札幌', 'JP-01', 'JP']];
function seed(campaignSlug: string, count: number, emailPrefix: string, updates: boolean) {
  const db = new BetterSqlite3(databasePath);
  db.pragma('busy_timeout = 10000');
  const campaignId = (db.prepare('select id from campaigns where slug = ?').get(campaignSlug) as { id: string }).id;
  const insert = db.prepare(`insert into signatures (id, campaign_id, name, email, email_normalized, country, region, city, locale,
    name_on_letter, show_publicly, updates, status, created_at, confirmed_at) values (?, ?, ?, ?, ?, ?, ?, ?, 'ja', ?, 0, ?, 'confirmed', ?, ?)`);
  const now = Date.now() - 3_600_000;
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const [city, region, country] = places[i % places.length]!;
      const email = `${emailPrefix}${i}@example.org`;
      const name = `${families[i % families.length]} ${givens[(i * 7) % givens.length]}`;
      insert.run(newId(now), campaignId, name, email, email, country, region, city, i % 3 === 0 ? 'full' : i % 3 === 1 ? 'initials' : 'none', updates ? 1 : 0, now, now + i);
    }
    db.prepare('update campaigns set signature_count = ? where id = ?').run(count, campaignId);
  })();
  db.close();
}
seed('mixed-update', supporters, 'supporter', true);
seed('mixed-alone', supporters, 'alone', true);
seed('mixed-letter', names, 'named', false);

// --- Load ------------------------------------------------------------------------------------------
type Measured = { name: string; signaturesPerSecond: number; p50ms: number; p99ms: number; ok: number; non2xx: number; errors: number };
let counter = 0;
/**
 * Signs for --seconds (at --rate a second, or flat out), each signer with a new address
 * `${emailPrefix}N@example.org`; `acknowledged` gets each address whose signature was answered
 * 202, with the epoch ms of the answer.
 */
function signers(label: string, emailPrefix: string, acknowledged?: Map<string, number>): Promise<Measured> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${api}/campaigns/mixed-sign/signatures`,
        connections,
        duration: seconds,
        ...(rate > 0 ? { overallRate: rate } : {}),
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            setupRequest: (request, context: { email?: string }) => {
              counter += 1;
              context.email = `${emailPrefix}${counter}@example.org`;
              request.body = JSON.stringify({
                name: `支援者 ${counter}`,
                email: context.email,
                country: 'JP',
                region: 'JP-13',
                city: '東京',
                consent: { nameOnLetter: 'initials', showPublicly: false, updates: true },
              });
              return request;
            },
            onResponse: (status, _body, context: { email?: string }) => {
              if (status === 202) acknowledged?.set(String(context.email), Date.now());
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const ok = result['2xx'];
        resolve({
          name: label,
          signaturesPerSecond: Math.round(ok / (result.duration || seconds)),
          p50ms: result.latency.p50,
          p99ms: result.latency.p99,
          ok,
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
        });
      },
    );
  });
}

/** Schedules an update mailing to a campaign's supporters a few seconds from now (UTC wall clock, to the second). */
function scheduleUpdate(campaign: string) {
  const sendAt = new Date(Date.now() + 3_000).toISOString().slice(0, 19);
  return call('POST', '/mailings', {
    campaign,
    kind: 'update',
    sendAt,
    timeZone: 'UTC',
    subject: 'The letters are on their way',
    body: '# Thank you\n\nWe delivered your signatures today.',
  });
}

/** Waits (15 min at most) for a mailing to end; its view and its time from start to finish. */
async function mailingEnd(id: unknown): Promise<{ view: Record<string, unknown>; seconds: number }> {
  let view: Record<string, unknown> = {};
  const deadline = Date.now() + 15 * 60_000;
  while (Date.now() < deadline) {
    view = await call('GET', `/mailings/${String(id)}`);
    if (view.status === 'finished' || view.status === 'failed' || view.status === 'cancelled') break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const seconds = (Date.parse(String(view.finishedAt ?? new Date().toISOString())) - Date.parse(String(view.startedAt ?? new Date().toISOString()))) / 1000;
  return { view, seconds };
}

const mailingAlone = await mailingEnd((await scheduleUpdate('mixed-alone')).id);
const aloneMailed = (await smtpReport('alone')).matching;

const alone = await signers('signing alone', 'solo');

const mailing = await scheduleUpdate('mixed-update');
// Every 5 s while the signers run and until the mailing ends: seconds since the start, the mailing's sent, the signers' confirmation emails received.
const timeline: { s: number; mailingSent: number; confirmationsReceived: number }[] = [];
const mixedStarted = performance.now();
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const progress = (await call('GET', `/mailings/${String(mailing.id)}`)).progress as { sent?: number } | undefined;
    timeline.push({ s: Math.round((performance.now() - mixedStarted) / 1000), mailingSent: progress?.sent ?? 0, confirmationsReceived: (await smtpReport('signer')).matching });
  }
})();
const letterStarted = performance.now();
const letter = call('POST', '/campaigns/mixed-letter/letters', { mode: 'per_target' }).then((result) => ({ result, seconds: (performance.now() - letterStarted) / 1000 }));
const signedDuringMailing = new Map<string, number>();
const mixed = await signers(`signing + update mailing to ${supporters.toLocaleString('en')} + ${names.toLocaleString('en')}-name letter`, 'signer', signedDuringMailing);
const { result: letterResult, seconds: letterSeconds } = await letter;

// --- Checks ----------------------------------------------------------------------------------------
const { view, seconds: mailingSeconds } = await mailingEnd(mailing.id);
sampling = false;
await sampler;
// Each confirmation email of the signers beside the mailing: from the 202 to its arrival. Those
// not arrived 2 minutes after the signers stopped count as waiting until then (a lower bound).
let arrivals = await smtpArrivals('signer');
const lastWait = Date.now() + 120_000;
while (Date.now() < lastWait && [...signedDuringMailing.keys()].some((address) => !arrivals.has(address))) {
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  arrivals = await smtpArrivals('signer');
}
const gaveUpAt = Date.now();
const confirmationDelays = [...signedDuringMailing].map(([address, acknowledgedAt]) => Math.max(0, (arrivals.get(address) ?? gaveUpAt) - acknowledgedAt) / 1000).sort((a, b) => a - b);
const quantile = (q: number) => confirmationDelays[Math.min(confirmationDelays.length - 1, Math.floor(q * confirmationDelays.length))] ?? 0;
const confirmations = {
  signed: confirmationDelays.length,
  arrived: [...signedDuringMailing.keys()].filter((address) => arrivals.has(address)).length,
  p50Seconds: Math.round(quantile(0.5) * 10) / 10,
  p99Seconds: Math.round(quantile(0.99) * 10) / 10,
  maxSeconds: Math.round((confirmationDelays.at(-1) ?? 0) * 10) / 10,
};
// The signers' confirmation emails (several hundred thousand at this rate) are still being sent; they are counted as far as they got.
const updates = await smtpReport('supporter');
const signersMailed = (await smtpReport('signer')).matching;
await server.stop();
const db = new BetterSqlite3(databasePath, { readonly: true });
const stored = (db.prepare("select count(*) as n from signature_submissions s join campaigns c on c.id = s.campaign_id where c.slug = 'mixed-sign'").get() as { n: number }).n;
const failedRows = (db.prepare("select count(*) as n from outbox where status = 'failed'").get() as { n: number }).n;
db.close();
smtp.stop();
rmSync(dir, { recursive: true, force: true });

const letters = (letterResult.letters as { pages: number; bytes: number; signatureCount: number }[])[0]!;
console.table([alone, mixed]);
console.table(timeline);
const report = {
  seconds,
  connections,
  rate: rate > 0 ? rate : 'flat out',
  alone,
  mixed,
  mailingAlone: { status: mailingAlone.view.status, seconds: mailingAlone.seconds, supportersMailed: aloneMailed },
  mailing: { status: view.status, progress: view.progress, seconds: mailingSeconds, supportersMailed: updates.matching, timesAlone: Math.round((mailingSeconds / mailingAlone.seconds) * 100) / 100 },
  timeline,
  letter: { names, seconds: Math.round(letterSeconds * 10) / 10, pages: letters.pages, bytes: letters.bytes },
  signaturesAcknowledged: alone.ok + mixed.ok,
  signaturesStored: stored,
  confirmationEmailsReceived: signersMailed,
  confirmationsBesideMailing: confirmations,
  duplicates: updates.duplicates,
  outboxFailed: failedRows,
  node: process.version,
};
console.log(JSON.stringify(report));

const problems = [
  alone.errors + alone.non2xx + mixed.errors + mixed.non2xx > 0 && 'requests failed',
  stored < alone.ok + mixed.ok && `lost signatures: ${alone.ok + mixed.ok} acknowledged, ${stored} stored`,
  view.status !== 'finished' && `mailing ${String(view.status)}`,
  mailingAlone.view.status !== 'finished' && `mailing alone ${String(mailingAlone.view.status)}`,
  aloneMailed !== supporters && `${aloneMailed} of ${supporters} supporters mailed by the mailing alone`,
  updates.matching !== supporters && `${updates.matching} of ${supporters} supporters mailed`,
  updates.duplicates > 0 && `${updates.duplicates} duplicate emails`,
  failedRows > 0 && `${failedRows} outbox rows failed`,
].filter(Boolean);
if (problems.length > 0) {
  console.error(`FAILED: ${problems.join('; ')}`);
  process.exit(1);
}
if (mailingSeconds > 1.5 * mailingAlone.seconds) console.warn(`Below target: the mailing took ${report.mailing.timesAlone} × its time alone (goal ≤ 1.5 ×)`);
if (confirmations.p99Seconds > 60) console.warn(`Below target: confirmation emails beside the mailing left after ${confirmations.p99Seconds} s at p99 (goal ≤ 60 s)`);
