import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import * as markdown from '../../../src/markdown/markdown.js';
import { createTestApp } from '../../helpers/app.js';
import { testLinks } from '../../helpers/keys.js';
import { parseMail, partText } from '../../mail/helpers/mime.js';
import { startSmtpServer, type TestSmtpServer } from '../../mail/helpers/smtp-server.js';
import { createRunner, eligibleEmail, scheduleUpdate, seedSupporters, SEND_AT, type TestApp } from './runner-helpers.js';

// Issue #17: an update is composed for each recipient when it is sent, and each composition
// parsed the organiser's Markdown body again (in quadratic time): a mailing to N supporters
// parsed it N times.

let t: TestApp;
let smtp: TestSmtpServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await smtp?.close();
  smtp = undefined;
  await t?.cleanup();
});

describe('an update mailing renders its body once', () => {
  it('parses the Markdown body once for a dry run and a real mailing to 40 supporters in two languages, and each gets it', async () => {
    t = createTestApp();
    const supporters = 40;
    await seedSupporters(t, supporters);
    const body = `# Thank you\n\n**We delivered your signatures today.** ${'*a'.repeat(2_500)}`;
    await scheduleUpdate(t, { body, dryRun: true });
    await scheduleUpdate(t, { body });
    const parse = vi.spyOn(markdown, 'parseMarkdown');

    t.clock.set(SEND_AT);
    expect(await createRunner(t, { batchSize: 10 }).tick()).toEqual({ claimed: 2, queued: supporters, finished: 1 });
    smtp = await startSmtpServer();
    const transport = new SmtpTransport({ url: smtp.url, dataDir: t.dataDir, maxConnections: 5 });
    const sender = new OutboxSender({ links: testLinks, database: t.database, transport, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>', batchSize: 500, concurrency: 10 });
    try {
      for (;;) {
        const pass = await sender.drainOnce();
        if (pass.sent + pass.failed + pass.retried === 0) break;
      }
    } finally {
      await transport.close();
    }

    expect(smtp.received.flatMap((mail) => mail.rcptTo).sort()).toEqual(Array.from({ length: supporters }, (_, i) => eligibleEmail(i)).sort());
    for (const received of smtp.received) {
      const html = partText(parseMail(received.raw), 'text/html');
      expect(html).toContain('<strong>We delivered your signatures today.</strong>');
      expect(html.match(/<em>a<\/em>/g)).toHaveLength(1_250);
    }
    expect(parse).toHaveBeenCalledTimes(1);
  });
});
