import { afterEach, describe, expect, it } from 'vitest';
import { unsubscribeToken, unsubscribeUrl, verifyUnsubscribeToken } from '../src/services/unsubscribe-links.js';
import { createTestApp } from './helpers/app.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

describe('unsubscribe links', () => {
  it('round-trips a signature id and refuses forged or altered tokens', async () => {
    t = createTestApp();
    const id = '01a2212b-d384-7c41-a300-4ef26b334fe5';
    const token = await unsubscribeToken(t.ctx, id);
    expect(token).toMatch(/^01a2212b-d384-7c41-a300-4ef26b334fe5\.[0-9a-f]{32}$/);
    expect(await unsubscribeToken(t.ctx, id)).toBe(token); // stable: one link per supporter
    expect(await verifyUnsubscribeToken(t.ctx, token)).toBe(id);
    expect(await unsubscribeUrl(t.ctx, id)).toBe(`http://localhost:3000/unsubscribe/${token}`);

    const other = '01a2212b-d384-7c41-a300-4ef26b334fe6';
    expect(await verifyUnsubscribeToken(t.ctx, `${other}.${token.split('.')[1]}`)).toBeNull();
    expect(await verifyUnsubscribeToken(t.ctx, `${token.slice(0, -1)}0`.replace(/0$/, token.endsWith('0') ? '1' : '0'))).toBeNull();
    expect(await verifyUnsubscribeToken(t.ctx, 'not-a-token')).toBeNull();
  });

  it('differs between installations', async () => {
    t = createTestApp();
    const first = await unsubscribeToken(t.ctx, '01a2212b-d384-7c41-a300-4ef26b334fe5');
    await t.cleanup();
    t = createTestApp();
    expect(await unsubscribeToken(t.ctx, '01a2212b-d384-7c41-a300-4ef26b334fe5')).not.toBe(first);
  });
});
