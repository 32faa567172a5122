/**
 * What each webhook event says, read when it is sent (so an erasure or a
 * change of consent made since the event is what goes out).
 *
 * Signature events take Action Network's webhook shape (an array of one
 * `osdi:signature`), so an Action Network-style receiver takes them as they
 * come. What a signature event says of the supporter follows their consent
 * (README, Webhooks):
 * - the email address always (a receiver needs it to know the person), its
 *   `status` `subscribed` only with consent to updates, else `unsubscribed`;
 * - the name only when they agreed to be named (`nameOnLetter: full`): who
 *   chose initials or to be counted only is not named to another system;
 * - region and country only, never the city, postal code, comment or IP hash.
 * `signature.erased` names the signature by its identifier and nothing else.
 * The other events use one envelope: `{ id, event, created_date, data }`.
 */
import { eq } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { campaigns, deliveries, mailings, replies, signatures, targets } from '../db/schema.js';
import type { WebhookEvent, WebhookEventInput } from './webhooks.js';

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** The identifiers of a signature as receivers see them: stable across events. */
const signatureIdentifier = (id: string) => `signet:${id}`;

/** `山田 太郎` → family first in Japanese, Korean and Chinese; `Ken Sato` → given first elsewhere. One word: the family name. */
export function splitName(name: string, locale: string): { given_name?: string; family_name: string } {
  const words = name.trim().split(/\s+/u);
  if (words.length === 1) return { family_name: words[0]! };
  if (locale === 'ja' || locale === 'ko' || locale === 'zh') return { family_name: words[0]!, given_name: words.slice(1).join(' ') };
  return { given_name: words.slice(0, -1).join(' '), family_name: words[words.length - 1]! };
}

async function signatureConfirmed(db: Database, input: WebhookEventInput): Promise<unknown | null> {
  const [row] = await db.db
    .select({
      id: signatures.id,
      status: signatures.status,
      name: signatures.name,
      email: signatures.email,
      country: signatures.country,
      region: signatures.region,
      locale: signatures.locale,
      nameOnLetter: signatures.nameOnLetter,
      updates: signatures.updates,
      unsubscribedAt: signatures.unsubscribedAt,
      source: signatures.source,
      createdAt: signatures.createdAt,
      confirmedAt: signatures.confirmedAt,
      slug: campaigns.slug,
      title: campaigns.title,
    })
    .from(signatures)
    .innerJoin(campaigns, eq(campaigns.id, signatures.campaignId))
    .where(eq(signatures.id, input.subjectId));
  // Erased, invalidated or gone since: nothing to tell (an erasure sends its own event).
  if (!row || row.status !== 'confirmed') return null;
  const subscribed = row.updates && row.unsubscribedAt === null;
  const person = {
    ...(row.nameOnLetter === 'full' && row.name.trim() !== '' ? splitName(row.name, row.locale) : {}),
    // A paper signature may have no address.
    email_addresses: row.email ? [{ address: row.email, primary: true, status: subscribed ? 'subscribed' : 'unsubscribed' }] : [],
    postal_addresses: [{ ...(row.region ? { region: row.region } : {}), country: row.country }],
    languages_spoken: [row.locale],
  };
  const source = row.source ?? {};
  return [
    {
      'osdi:signature': {
        identifiers: [signatureIdentifier(row.id)],
        created_date: iso(row.confirmedAt ?? row.createdAt),
        modified_date: iso(input.occurredAt),
        petition: { identifiers: [`signet:campaign:${row.slug}`], title: row.title },
        person,
        add_tags: [row.slug],
        referrer_data: { source: source.utm_source ?? (source.kind === 'paper' ? 'paper' : 'signet'), ...(source.utm_campaign ? { referrer: source.utm_campaign } : {}) },
      },
    },
  ];
}

function signatureErased(input: WebhookEventInput): unknown {
  return [{ 'osdi:signature': { identifiers: [signatureIdentifier(input.subjectId)], modified_date: iso(input.occurredAt), 'signet:status': 'erased' } }];
}

const envelope = (input: WebhookEventInput, outboxId: string, data: unknown) => ({ id: outboxId, event: input.event, created_date: iso(input.occurredAt), data });

async function mailingFinished(db: Database, input: WebhookEventInput, outboxId: string): Promise<unknown | null> {
  const [row] = await db.db
    .select({ id: mailings.id, kind: mailings.kind, channel: mailings.channel, status: mailings.status, total: mailings.total, sent: mailings.sent, failed: mailings.failed, skipped: mailings.skipped, finishedAt: mailings.finishedAt, campaign: campaigns.slug })
    .from(mailings)
    .innerJoin(campaigns, eq(campaigns.id, mailings.campaignId))
    .where(eq(mailings.id, input.subjectId));
  if (!row) return null;
  return envelope(input, outboxId, { mailing: { ...row, finishedAt: iso(row.finishedAt) } });
}

async function deliveryUpdated(db: Database, input: WebhookEventInput, outboxId: string): Promise<unknown | null> {
  const [row] = await db.db
    .select({ id: deliveries.id, letterId: deliveries.letterId, channel: deliveries.channel, status: deliveries.status, trackingNumber: deliveries.trackingNumber, updatedAt: deliveries.updatedAt, targetId: targets.id, targetName: targets.name, campaign: campaigns.slug })
    .from(deliveries)
    .innerJoin(campaigns, eq(campaigns.id, deliveries.campaignId))
    .innerJoin(targets, eq(targets.id, deliveries.targetId))
    .where(eq(deliveries.id, input.subjectId));
  if (!row) return null;
  const { targetId, targetName, ...delivery } = row;
  return envelope(input, outboxId, { delivery: { ...delivery, updatedAt: iso(row.updatedAt), target: { id: targetId, name: targetName } } });
}

async function replyCreated(db: Database, input: WebhookEventInput, outboxId: string): Promise<unknown | null> {
  const [row] = await db.db
    .select({ id: replies.id, receivedOn: replies.receivedOn, channel: replies.channel, summary: replies.summary, public: replies.public, targetId: targets.id, targetName: targets.name, campaign: campaigns.slug })
    .from(replies)
    .innerJoin(campaigns, eq(campaigns.id, replies.campaignId))
    .innerJoin(targets, eq(targets.id, replies.targetId))
    .where(eq(replies.id, input.subjectId));
  if (!row) return null;
  const { targetId, targetName, ...reply } = row;
  return envelope(input, outboxId, { reply: { ...reply, target: { id: targetId, name: targetName } } });
}

const composers: Record<WebhookEvent, (db: Database, input: WebhookEventInput, outboxId: string) => Promise<unknown | null> | unknown> = {
  'signature.confirmed': signatureConfirmed,
  'signature.erased': (_db, input) => signatureErased(input),
  'mailing.finished': mailingFinished,
  'delivery.updated': deliveryUpdated,
  'reply.created': replyCreated,
};

/** The JSON body of an event, or null when what it is about is gone (nothing is sent then). */
export async function composeWebhookBody(db: Database, input: WebhookEventInput, outboxId: string): Promise<string | null> {
  const composer = composers[input.event];
  if (!composer) throw new TypeError(`unknown webhook event ${String(input.event)}`);
  const payload = await composer(db, input, outboxId);
  return payload === null ? null : JSON.stringify(payload);
}
