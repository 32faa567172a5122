import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerWithSmtp, type ServerWithSmtp } from '../helpers/server-process.js';
import { waitFor } from '../helpers/wait.js';

const adminToken = 'e2e-admin-token-0123456789abcdef';
let running: ServerWithSmtp;

beforeAll(async () => {
  running = await startServerWithSmtp('paper', adminToken);
});
afterAll(async () => {
  await running?.stop();
});

describe('street signatures, with the real server and a real SMTP server', () => {
  it('emails nobody on import, and later mail goes only to paper signers who gave an address and ticked news', async () => {
    const { server, smtp } = running;
    const api = `${server.url}/api/v1`;
    const organiser = { authorization: `Bearer ${adminToken}` };
    const json = { ...organiser, 'content-type': 'application/json' };
    expect((await fetch(`${api}/campaigns`, { method: 'POST', headers: json, body: JSON.stringify({ slug: 'paper', title: '北朝鮮難民を守れ', locale: 'ja', timeZone: 'Asia/Tokyo' }) })).status).toBe(201);
    expect((await fetch(`${api}/campaigns/paper`, { method: 'PATCH', headers: json, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);

    const sheet = [
      'name,email,updates,name_on_letter',
      '山田 花子,hanako@example.jp,yes,full',
      '佐藤 健,ken@example.jp,no,initials',
      '鈴木 一郎,,yes,full',
      '高橋 明,,,',
    ].join('\n');
    const imported = await fetch(`${api}/campaigns/paper/signatures/import?country=JP&event=${encodeURIComponent('新宿駅前の街頭署名')}`, {
      method: 'POST',
      headers: { ...organiser, 'content-type': 'text/csv' },
      body: sheet,
    });
    expect(imported.status).toBe(201);
    expect(await imported.json()).toMatchObject({ imported: 4, merged: 0, rejectedCount: 0 });

    // A web signature's confirmation goes out: once it has arrived, the sender has had every chance to send anything the import queued.
    const signed = await fetch(`${api}/campaigns/paper/signatures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Web Signer', email: 'web@example.org', country: 'JP' }),
    });
    expect(signed.status).toBe(202);
    await waitFor('the web confirmation', () => smtp.received.find((mail) => mail.rcptTo.includes('web@example.org')));
    expect(smtp.received.flatMap((mail) => mail.rcptTo)).toEqual(['web@example.org']);
    const campaign = (await (await fetch(`${api}/campaigns/paper`, { headers: organiser })).json()) as { signatureCount: number };
    expect(campaign.signatureCount).toBe(4);

    // An update to everyone who asked for news: of the paper signers, only the one with an address who ticked the box.
    const sendAt = new Date(Date.now() + 2000).toISOString().slice(0, 19);
    const scheduled = await fetch(`${api}/mailings`, { method: 'POST', headers: json, body: JSON.stringify({ campaign: 'paper', kind: 'update', sendAt, timeZone: 'UTC', subject: 'News', body: 'Thank you for signing.' }) });
    expect(scheduled.status, await scheduled.clone().text()).toBe(201);
    const { id } = (await scheduled.json()) as { id: string };
    const finished = await waitFor(
      'the update mailing to finish',
      async () => {
        const mailing = (await (await fetch(`${api}/mailings/${id}`, { headers: organiser })).json()) as { status: string; progress: { total: number; sent: number } };
        return mailing.status === 'finished' ? mailing : undefined;
      },
      30_000,
      200,
    );
    expect(finished.progress).toMatchObject({ total: 1, sent: 1 });
    await waitFor('the update email', () => smtp.received.find((mail) => mail.rcptTo.includes('hanako@example.jp')));
    expect(smtp.received.flatMap((mail) => mail.rcptTo).sort()).toEqual(['hanako@example.jp', 'web@example.org']);
    expect(smtp.dataCount()).toBe(2);
  });
});
