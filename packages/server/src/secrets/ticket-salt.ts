import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ownerOnly } from '../files.js';

/** The file in the data directory that keeps a generated ticket salt. */
export const TICKET_SALT_FILE = 'ticket-salt';

/**
 * The salt of Icinga 2 tickets: `configured` (`director.ticket_salt`) when set, else the one
 * kept in `<dataDir>/ticket-salt` (mode 0600), generated there on first use (16 random bytes in
 * hex, as Icinga's own `TicketSalt` constants look), so that tickets stay the same across
 * restarts. Servers sharing one PostgreSQL database need the same salt: set it, or copy the file.
 * @throws Error when the file exists but is empty.
 */
export function ticketSalt(configured: string, dataDir: string): string {
  if (configured !== '') return configured;
  const file = path.join(dataDir, TICKET_SALT_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(16).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process made it first: its salt is the one.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  ownerOnly(file);
  const salt = readFileSync(file, 'utf8').trim();
  if (salt === '') throw new Error(`${file} is empty: remove it to generate a new ticket salt`);
  return salt;
}
