import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fieldMessage, translatedFieldMessages } from '../../../src/web/admin/i18n/field-messages.js';

const srcDir = fileURLToPath(new URL('../../../src/', import.meta.url));

describe('service messages in the Japanese dashboard', () => {
  it('translates only messages the services really give (no entry goes stale unnoticed)', async () => {
    const source = readdirSync(srcDir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.name.startsWith('field-messages'))
      .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'))
      .join('\n');
    const stale = Object.keys(translatedFieldMessages).filter((english) => !source.includes(english.replaceAll("'", "\\'")) && !source.includes(english));
    expect(stale).toEqual([]);
  });

  it('translates numbers in patterns, and leaves English and unknown messages as they are', () => {
    expect(fieldMessage('ja', 'must be at most 300 characters')).toBe('300文字以内で入力してください');
    expect(fieldMessage('ja', 'Invalid length: Expected >=1 but received 0')).toBe('入力してください');
    expect(fieldMessage('ja', 'must be email, print or auto')).toBe('選択肢から選んでください');
    expect(fieldMessage('ja', 'something only the API says')).toBe('something only the API says');
    expect(fieldMessage('en', 'must not be empty')).toBe('must not be empty');
  });
});
