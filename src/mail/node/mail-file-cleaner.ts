import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MailFileCleaner } from '../transports/transport.js';

/**
 * The Node side of the retention rule for mail files: the `.eml` files the
 * file transport writes (src/mail/node/file-transport.ts), and temporary files a
 * crash left behind, deleted once older than the cut-off (by modification time).
 */
export function createMailFileCleaner(directory: string): MailFileCleaner {
  return {
    async deleteOlderThan(cutoff) {
      let names: string[];
      try {
        names = await readdir(directory);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw error;
      }
      let deleted = 0;
      for (const name of names) {
        if (!name.endsWith('.eml') && !name.endsWith('.tmp')) continue;
        const path = join(directory, name);
        try {
          const info = await stat(path);
          if (!info.isFile() || info.mtimeMs >= cutoff) continue;
          await rm(path);
          deleted += 1;
        } catch (error) {
          // Gone meanwhile (another process's run): nothing to do.
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
      return deleted;
    },
  };
}
