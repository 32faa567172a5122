import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { letterBatches, letters } from '../../../src/db/schema.js';
import { createLocalLetterPorts } from '../../../src/letters/node/letter-store.js';
import { generateLetters } from '../../../src/services/letters.js';
import { createTestApp, repoLettersDir } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';

let t: ReturnType<typeof createTestApp> | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

describe('generateLetters', () => {
  it('deletes the files of a batch that fails part-way and records nothing', async () => {
    t = createTestApp();
    const targets = [1, 2, 3].map((n) => ({ name: `Official ${n}`, kind: 'official', postalAddress: { lines: [`${n} Main St`], city: 'Springfield', country: 'US' }, language: 'en' }));
    const imported = (await (await t.request('POST', '/api/v1/targets/import', { raw: JSON.stringify(targets) })).json()) as { ids: string[] };
    await openCampaign(t, 'failing-batch', { targetIds: imported.ids });

    const local = createLocalLetterPorts({ lettersDir: repoLettersDir, dataDir: t.dataDir });
    let rendered = 0;
    const ports = {
      ...local,
      renderToFile: async (...args: Parameters<typeof local.renderToFile>) => {
        if (++rendered === 3) throw new Error('disk full');
        return local.renderToFile(...args);
      },
    };
    await expect(generateLetters(t.ctx, ports, 'failing-batch', { mode: 'per_target' })).rejects.toThrow('disk full');
    expect(rendered).toBe(3);
    expect(await readdir(join(t.dataDir, 'letters'))).toEqual([]);
    expect(await t.database.db.select().from(letters)).toEqual([]);
    expect(await t.database.db.select().from(letterBatches)).toEqual([]);

    const result = await generateLetters(t.ctx, local, 'failing-batch', { mode: 'per_target' });
    expect(result.letters.map((l) => l.targetId)).toEqual(imported.ids);
    expect(await readdir(join(t.dataDir, 'letters', result.batchId))).toHaveLength(3);
  });
});
