import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { systemClock, type Clock } from '../lib/clock.js';
import { MailSendError, prepareOutgoingMail, toNodemailerFields, type MailTransport, type OutgoingMail } from './transport.js';

export type FileTransportOptions = {
  /** Created on the first send if missing. */
  directory: string;
  clock?: Clock;
};

function fileNameFor(sentAt: number, messageId: string): string {
  const time = new Date(sentAt).toISOString().replace(/:/g, '');
  const id = messageId.replace(/^<|>$/g, '').replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 160);
  return `${time}-${id}.eml`;
}

/**
 * Writes each message as an RFC 5322 `.eml` file instead of sending it: mail
 * for installations without an SMTP relay, readable by any mail client.
 */
export class FileTransport implements MailTransport {
  private readonly directory: string;
  private readonly clock: Clock;
  private directoryReady: Promise<unknown> | undefined;

  constructor(options: FileTransportOptions) {
    this.directory = options.directory;
    this.clock = options.clock ?? systemClock;
  }

  async send(message: OutgoingMail): Promise<void> {
    const mail = prepareOutgoingMail(message);
    const sentAt = this.clock.now();
    const raw = await new MailComposer({
      ...toNodemailerFields(mail),
      date: new Date(sentAt),
      disableFileAccess: true,
      disableUrlAccess: true,
    })
      .compile()
      .build();

    const name = fileNameFor(sentAt, mail.messageId);
    // A dot-file is skipped by tools that pick up *.eml, so a half-written
    // file is never seen; the rename makes the whole file appear at once.
    const temporary = join(this.directory, `.${name}.${randomUUID()}.tmp`);
    try {
      await this.ensureDirectory();
      const file = await open(temporary, 'wx');
      try {
        await file.writeFile(raw);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, join(this.directory, name));
    } catch (error) {
      // Best effort: the cleanup can fail for the same reason as the write, and that first error is the one to report.
      await rm(temporary, { force: true }).catch(() => undefined);
      const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : undefined;
      throw new MailSendError(`Could not write the message file${code ? ` (${code})` : ''}`, { permanent: false, code, cause: error });
    }
  }

  /** Nothing to release: every send opens and closes its own file. */
  async close(): Promise<void> {}

  private ensureDirectory(): Promise<unknown> {
    this.directoryReady ??= mkdir(this.directory, { recursive: true }).catch((error: unknown) => {
      this.directoryReady = undefined;
      throw error;
    });
    return this.directoryReady;
  }
}
