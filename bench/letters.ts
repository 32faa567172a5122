/**
 * Letter rendering benchmark (PRODUCT.md §7): one letter with a mixed-script appendix of N names
 * (Japanese, Simplified and Traditional Chinese, Korean, accented Latin), rendered to a temporary
 * file. Each run happens in a fresh child process so that its peak RSS (getrusage maxRSS) belongs
 * to that render alone.
 *
 *   npx tsx bench/letters.ts                      # 100,000 and 1,000,000 names
 *   npx tsx bench/letters.ts --names 100000       # one size
 *   npx tsx bench/letters.ts --names 100000 --worker   # through the worker pool
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LetterInput, LetterLanguage, RegionCount, RegionTally, Signatory } from '../src/letters/index.js';

const { values } = parseArgs({
  options: {
    names: { type: 'string', multiple: true },
    worker: { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

// A small deterministic PRNG (mulberry32): the same names on every run and machine.
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

type Pool = { family: readonly string[]; given: readonly string[]; places: readonly (readonly [string, string])[]; country: string; locale: string; separator: string };

const pools: Record<'ja' | 'sc' | 'tc' | 'ko' | 'latin', Pool> = {
  ja: {
    family: ['佐藤', '鈴木', '高橋', '田中', '伊藤', '渡辺', '山本', '中村', '小林', '加藤', '吉田', '山田', '佐々木', '松本', '井上', '木村', '斎藤', '清水'],
    given: ['太郎', '花子', 'さくら', '翔太', '陽菜', '健一', '美咲', 'ゆうき', '大輔', '結衣', '蓮', 'ひなた', '直樹', '真由美'],
    places: [['東京', 'JP-13'], ['大阪', 'JP-27'], ['横浜', 'JP-14'], ['札幌', 'JP-01'], ['福岡', 'JP-40'], ['京都', 'JP-26'], ['那覇', 'JP-47']],
    country: 'JP',
    locale: 'ja',
    separator: ' ',
  },
  sc: {
    family: ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱'],
    given: ['伟', '芳', '娜', '秀英', '敏', '静', '丽', '强', '磊', '军', '洋', '艳', '勇', '杰'],
    places: [['北京', 'CN-BJ'], ['上海', 'CN-SH'], ['广州', 'CN-GD'], ['成都', 'CN-SC'], ['沈阳', 'CN-LN']],
    country: 'CN',
    locale: 'zh-CN',
    separator: '',
  },
  tc: {
    family: ['陳', '林', '黃', '張', '李', '王', '吳', '劉', '蔡', '楊', '許', '鄭', '謝', '郭'],
    given: ['志明', '淑芬', '家豪', '雅婷', '俊傑', '怡君', '冠宇', '佳穎', '宗翰', '詩涵', '建宏', '美玲'],
    places: [['臺北', 'TW-TPE'], ['高雄', 'TW-KHH'], ['臺中', 'TW-TXG'], ['香港', '']],
    country: 'TW',
    locale: 'zh-TW',
    separator: '',
  },
  ko: {
    family: ['김', '이', '박', '최', '정', '강', '조', '윤', '장', '임', '한', '오'],
    given: ['민준', '서연', '도윤', '지우', '하준', '서윤', '시우', '하은', '주원', '지민', '예준', '수아'],
    places: [['서울', 'KR-11'], ['부산', 'KR-26'], ['인천', 'KR-28'], ['대구', 'KR-27']],
    country: 'KR',
    locale: 'ko',
    separator: '',
  },
  latin: {
    family: ['García', 'Müller', 'Nováková', 'Łukasiewicz', 'Øvergaard', 'Dubois', 'Åström', 'Fernández', 'Smith', 'Nguyễn', 'Çelik', 'Ó Súilleabháin', 'Kowalczyk', 'Żmuda'],
    given: ['José', 'Zoë', 'François', 'Ángela', 'Jürgen', 'Søren', 'Chloé', 'Łucja', 'Mário', 'Inés', 'Ingrid', 'Raphaël', 'Dorothée', 'Tomáš'],
    places: [['São Paulo', 'BR-SP'], ['Zürich', 'CH-ZH'], ['Kraków', 'PL-12'], ['Malmö', 'SE-M'], ['Besançon', 'FR-BFC'], ['Córdoba', 'ES-AN'], ['London', 'GB-ENG']],
    country: 'GB',
    locale: 'en',
    separator: ' ',
  },
};

const countries: Record<string, string> = { 'São Paulo': 'BR', Zürich: 'CH', Kraków: 'PL', Malmö: 'SE', Besançon: 'FR', Córdoba: 'ES', London: 'GB', 香港: 'HK' };

/** `count` named signatories plus one in eleven who chose `none` (counted, never listed), each with the region they gave (ISO 3166-2, or none). */
function* people(count: number): Generator<{ signatory: Signatory; region: string | null }> {
  const weighted: [Pool, number][] = [
    [pools.ja, 0.3],
    [pools.sc, 0.15],
    [pools.tc, 0.1],
    [pools.ko, 0.15],
    [pools.latin, 0.3],
  ];
  const random = prng(20270922);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  let named = 0;
  for (let i = 0; named < count; i++) {
    let roll = random();
    const pool = weighted.find(([, share]) => (roll -= share) < 0)?.[0] ?? pools.latin;
    const family = pick(pool.family);
    const given = pick(pool.given);
    const name = pool === pools.latin ? `${given} ${family}` : `${family}${pool.separator}${given}`;
    const [city, region] = pick(pool.places);
    const hidden = i % 11 === 10;
    if (!hidden) named++;
    const nameOnLetter = hidden ? 'none' : random() < 0.8 ? 'full' : 'initials';
    yield { signatory: { name, nameOnLetter, city, country: countries[city] ?? pool.country, locale: pool.locale }, region: region || null };
  }
}

/**
 * The signatories as a source that generates them afresh on each pass, as a database cursor
 * would: the benchmark then measures the renderer, not an array of a million rows held in memory.
 */
function signatorySource(count: number): () => Generator<Signatory> {
  return function* generate() {
    for (const { signatory } of people(count)) yield signatory;
  };
}

/** Region totals as the letters service shows them: small regions merged (PUBLIC_REGION_MIN 5). */
function regionTotals(count: number, language: LetterLanguage, publicRegionTotals: (tallies: RegionTally[], language: LetterLanguage, minimum: number) => RegionCount[]) {
  const tallies = new Map<string, RegionTally>();
  let total = 0;
  for (const { signatory, region } of people(count)) {
    total++;
    const key = `${signatory.country}:${region ?? ''}`;
    const tally = tallies.get(key);
    if (tally) tally.count++;
    else tallies.set(key, { country: signatory.country, region, count: 1 });
  }
  return { total, byRegion: publicRegionTotals([...tallies.values()], language, 5) };
}

async function runChild(names: number, out: string, useWorker: boolean): Promise<void> {
  const { publicRegionTotals } = await import('../src/letters/index.js');
  const { loadOrganisation, loadTemplate, renderLetter, createLetterRenderPool } = await import('../src/letters/node/index.js');
  const lettersDir = fileURLToPath(new URL('../letters', import.meta.url));
  const signatories = signatorySource(names);
  const { total, byRegion } = regionTotals(names, 'ja', publicRegionTotals);
  const input: LetterInput = {
    template: await loadTemplate(lettersDir, 'embassy-petition', 'ja'),
    organisation: await loadOrganisation(lettersDir),
    campaign: { slug: 'save-north-korean-refugees', title: '世界北朝鮮難民救済デー', summary: '', timeZone: 'Asia/Tokyo', locale: 'ja' },
    target: {
      name: '呉江浩',
      title: '特命全権大使',
      organisation: '中華人民共和国駐日本国大使館',
      salutation: '閣下',
      language: 'ja',
      postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
    },
    date: Date.UTC(2027, 8, 22, 0, 0),
    signatures: { count: total, byRegion, signatories },
  };
  let result;
  let started: number;
  if (useWorker) {
    // A server keeps its pool for its lifetime, so the worker's start-up is timed apart.
    const poolStarted = performance.now();
    const pool = createLetterRenderPool({ size: 1 });
    await pool.ready();
    console.error(`worker ready in ${((performance.now() - poolStarted) / 1000).toFixed(2)} s`);
    started = performance.now();
    try {
      result = await pool.render(input, out);
    } finally {
      await pool.close();
    }
  } else {
    started = performance.now();
    result = await renderLetter(input, out);
  }
  const seconds = (performance.now() - started) / 1000;
  // Worker threads share the process, so maxRSS covers a worker render too.
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ names, seconds, peakRssMb, pages: result.pages, bytes: result.bytes, warnings: result.warnings.length }));
}

function runParent(sizes: number[], useWorker: boolean): void {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const dir = mkdtempSync(join(tmpdir(), 'signet-bench-letters-'));
  const rows: string[] = [];
  try {
    for (const names of sizes) {
      const out = join(dir, `letter-${names}.pdf`);
      const args = [tsx, fileURLToPath(import.meta.url), '--child', '--names', String(names), '--out', out, ...(useWorker ? ['--worker'] : [])];
      const child = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
      if (child.status !== 0) throw new Error(`render of ${names} names failed (exit ${child.status})`);
      const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as { seconds: number; peakRssMb: number; pages: number; bytes: number; warnings: number };
      rows.push(
        `| ${names.toLocaleString('en')} | ${useWorker ? 'worker pool' : 'in process'} | ${result.seconds.toFixed(2)} s | ${result.peakRssMb.toFixed(0)} MB | ${result.pages.toLocaleString('en')} | ${(result.bytes / 1e6).toFixed(1)} MB | ${result.warnings} |`,
      );
      console.error(`${names} names: ${result.seconds.toFixed(2)} s, peak RSS ${result.peakRssMb.toFixed(0)} MB, ${result.pages} pages, ${result.bytes} bytes`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('| names | mode | wall time | peak RSS | pages | PDF size | glyph warnings |');
  console.log('|---:|---|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
}

const sizes = (values.names ?? ['100000', '1000000']).map(Number);
if (values.child) await runChild(sizes[0]!, values.out!, values.worker ?? false);
else runParent(sizes, values.worker ?? false);
