import { randomUUID } from 'node:crypto';
import { toNodemailerFields, type OpenedAttachment } from './nodemailer-fields.js';
import { createReadStream, type ReadStream } from 'node:fs';
import { realpath, rename, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { makePrivateDirectory, openPrivateFile } from '../../lib/node/private-files.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { MailSendError, prepareOutgoingMail, type MailTransport, type OutgoingMail } from '../transports/transport.js';

export type FileTransportOptions = {
  /** Created on the first send if missing. */
  directory: string;
  clock?: Clock;
  /** DATA_DIR: attachments are read from under it, and only from there. Without it, a message with attachments is refused. */
  dataDir?: string;
};

const attachmentFailure = (message: string, code: string, permanent = true, cause?: unknown) =>
  new MailSendError(message, { permanent, code, cause });

/**
 * Opens a message's attachments for nodemailer, which itself is never given
 * file access: each stored path is resolved under `dataDir` (symbolic links
 * followed) and refused if it lands outside. Call `close` once the message
 * is sent or abandoned, so files not read are not left open.
 */
export async function openStoredAttachments(
  mail: OutgoingMail,
  dataDir: string | undefined,
): Promise<{ attachments: OpenedAttachment[]; close(): void }> {
  const wanted = mail.attachments ?? [];
  if (wanted.length === 0) return { attachments: [], close() {} };
  if (dataDir === undefined) throw attachmentFailure('This transport sends no attachments (no data directory set)', 'ATTACHMENT_NOT_ALLOWED');
  let root: string;
  try {
    root = await realpath(resolve(dataDir));
  } catch (error) {
    throw attachmentFailure('The data directory cannot be read', 'ATTACHMENT_UNREADABLE', false, error);
  }
  const streams: ReadStream[] = [];
  const close = () => {
    for (const stream of streams) stream.destroy();
  };
  try {
    const attachments: OpenedAttachment[] = [];
    for (const attachment of wanted) {
      let path: string;
      try {
        path = await realpath(resolve(root, attachment.storedPath));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw attachmentFailure('An attached file is no longer stored', 'ATTACHMENT_MISSING', true, error);
        throw attachmentFailure(`An attached file cannot be read${code ? ` (${code})` : ''}`, 'ATTACHMENT_UNREADABLE', false, error);
      }
      if (!path.startsWith(root + sep)) throw attachmentFailure('An attachment lies outside the data directory', 'ATTACHMENT_OUTSIDE_DATA_DIR');
      const content = createReadStream(path);
      streams.push(content);
      attachments.push({ filename: attachment.filename, contentType: attachment.contentType, content });
    }
    return { attachments, close };
  } catch (error) {
    close();
    throw error;
  }
}

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
  private readonly dataDir: string | undefined;
  private directoryReady: Promise<unknown> | undefined;

  constructor(options: FileTransportOptions) {
    this.directory = options.directory;
    this.clock = options.clock ?? systemClock;
    this.dataDir = options.dataDir;
  }

  async send(message: OutgoingMail): Promise<void> {
    const mail = prepareOutgoingMail(message);
    const sentAt = this.clock.now();
    const opened = await openStoredAttachments(mail, this.dataDir);
    let raw: Buffer;
    try {
      raw = await new MailComposer({
        ...toNodemailerFields(mail, opened.attachments, { forReading: true }),
        // Line ends as text files have them here (and maildir stores mail), so a line grep prints ends with the link.
        newline: 'unix',
        date: new Date(sentAt),
        disableFileAccess: true,
        disableUrlAccess: true,
      })
        .compile()
        .build();
    } catch (error) {
      const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : undefined;
      throw new MailSendError(`Could not compose the message${code ? ` (${code})` : ''}`, { permanent: false, code, cause: error });
    } finally {
      opened.close();
    }

    const name = fileNameFor(sentAt, mail.messageId);
    // A dot-file is skipped by tools that pick up *.eml, so a half-written
    // file is never seen; the rename makes the whole file appear at once.
    const temporary = join(this.directory, `.${name}.${randomUUID()}.tmp`);
    try {
      await this.ensureDirectory();
      // The message holds working links (confirmation, privacy, sign-in): its owner's only.
      const file = await openPrivateFile(temporary, 'wx');
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
    this.directoryReady ??= makePrivateDirectory(this.directory).catch((error: unknown) => {
      this.directoryReady = undefined;
      throw error;
    });
    return this.directoryReady;
  }
}
