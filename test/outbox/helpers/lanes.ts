import type { Database } from '../../../src/db/database.js';
import { newId } from '../../../src/lib/ids.js';
import type { NewOutboxMessage, OutboxKind, OutboxStore } from '../../../src/outbox/types.js';
import { sampleMessage } from '../../mail/helpers/outbox.js';

let serial = 0;

/**
 * Queues `count` emails of one kind due at `at`, each to its own address
 * (signing links from their own source, so no lane rule holds one back);
 * resolves their ids.
 */
export async function enqueueLanes(database: Database, store: OutboxStore, at: number, kind: OutboxKind, count: number): Promise<string[]> {
  const messages: NewOutboxMessage[] = Array.from({ length: count }, () => {
    const n = serial++;
    const id = newId(at);
    const address = `${kind}-${n}@lanes.example`;
    return {
      id,
      kind,
      recipient: address,
      messageId: `<${id}@signet.test>`,
      message: sampleMessage(n),
      dueAt: at,
      createdAt: at,
      ...(kind === 'confirmation' ? { lane: { source: `source-${n}`, address, topic: 'campaign-1', expiresAt: at + 7 * 24 * 3_600_000 } } : {}),
    };
  });
  for (let start = 0; start < messages.length; start += 500) await database.atomic(store.enqueue(messages.slice(start, start + 500)));
  return messages.map((message) => message.id);
}
