import { afterEach, describe, expect, it } from 'vitest';
import { addressBlockLines, addressOnOneLine } from '../../../src/letters/template/postal-address.js';
import { createTestApp } from '../../helpers/app.js';
import { testOrganisation } from '../../helpers/organisation.js';
import { campaignWithTargets, putOrganisation, SLUG, type TestApp } from '../../services/organisation/helpers.js';
import { parsePdfBytes } from '../helpers.js';

/**
 * Addresses in their country's order, with a region given as its ISO code named in the address's
 * script: one formatting for the letters' address blocks and the dashboard's lists.
 */

const embassy = { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' };
const english = (code: string) => (code === 'JP' ? 'Japan' : code === 'FR' ? 'France' : code);

describe('addressOnOneLine', () => {
  it('writes a Japanese address in Japanese order, postal mark first, without the country its script already says', () => {
    expect(addressOnOneLine(embassy, english)).toBe('〒106-0046 東京都港区元麻布3-4-33');
    expect(addressOnOneLine({ ...embassy, region: 'JP-13' }, english)).toBe('〒106-0046 東京都港区元麻布3-4-33');
  });

  it('writes a Latin-script address street first, the region by name, and ends with the country', () => {
    expect(addressOnOneLine({ lines: ['3-4-33 Moto-Azabu'], postalCode: '106-0046', city: 'Minato-ku', region: 'JP-13', country: 'JP' }, english)).toBe(
      '3-4-33 Moto-Azabu, Minato-ku, Tokyo 106-0046, Japan',
    );
    expect(addressOnOneLine({ lines: ['11 avenue George V'], postalCode: '75008', city: 'Paris', country: 'FR' }, english)).toBe('11 avenue George V, 75008 Paris, France');
  });

  it('prints a region that is not a code of the address\'s country as typed', () => {
    expect(addressOnOneLine({ ...embassy, region: 'US-CA' }, english)).toBe('〒106-0046 US-CA港区元麻布3-4-33');
  });
});

describe('addressBlockLines', () => {
  it('names a region code in the address\'s script', () => {
    expect(addressBlockLines(['大使館'], { ...embassy, region: 'jp-13' }, 'JP')).toEqual(['〒106-0046', '東京都港区元麻布3-4-33', '大使館']);
    expect(addressBlockLines([], { lines: ['Sejong-daero 209'], city: '종로구', region: 'KR-11', postalCode: '03171', country: 'KR' }, 'JP')).toEqual([
      '서울특별시 종로구 Sejong-daero 209',
      '03171',
      'SOUTH KOREA',
    ]);
  });
});

describe('the organisation\'s sender block', () => {
  let t: TestApp | undefined;
  afterEach(async () => t?.cleanup());

  it('shows a region saved as its code by name: 東京都千代田区 in the Japanese letter, Tokyo in the English one, never JP-13', async () => {
    t = createTestApp({ organisation: 'example' });
    const { jaTarget, enTarget } = await campaignWithTargets(t);
    const { res } = await putOrganisation(t, {
      ...testOrganisation,
      postalAddress: { lines: ['2-4-6 Kanda-Jimbocho'], postalCode: '101-0051', city: 'Chiyoda-ku', region: 'JP-13', country: 'JP' },
      translations: { ja: { postalAddress: { lines: ['神田神保町2-4-6'], postalCode: '101-0051', city: '千代田区', region: 'JP-13', country: 'JP' } } },
    });
    expect(res.status).toBe(200);
    const generated = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target' } });
    expect(generated.status).toBe(201);
    const { letters } = (await generated.json()) as { letters: { id: string; targetId: string }[] };
    const text = async (targetId: string) => {
      const pdf = await t!.request('GET', `/api/v1/letters/${letters.find((letter) => letter.targetId === targetId)!.id}.pdf`);
      return (await parsePdfBytes(Buffer.from(await pdf.arrayBuffer()))).pages.join('\n');
    };
    const ja = await text(jaTarget);
    expect(ja.replace(/\s+/g, '')).toContain('東京都千代田区神田神保町2-4-6');
    expect(ja).not.toContain('JP-13');
    const en = await text(enTarget);
    expect(en).toContain('Chiyoda-ku, Tokyo 101-0051');
    expect(en).not.toContain('JP-13');
  });
});
