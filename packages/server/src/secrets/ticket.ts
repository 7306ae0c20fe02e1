import { pbkdf2 } from 'node:crypto';

/** PBKDF2 iterations of an Icinga 2 ticket (`PkiUtility::GenTicket`). */
const TICKET_ITERATIONS = 50_000;
/** Bytes of an Icinga 2 ticket: a SHA-1 digest's length, written as 40 hex digits. */
const TICKET_BYTES = 20;

/**
 * The Icinga 2 ticket of a certificate common name: PBKDF2-HMAC-SHA1 with the common name as the
 * password and the salt (Icinga's `TicketSalt`, its bytes as written) as the salt, 50,000
 * iterations, 20 bytes, in lower-case hex. It equals what `icinga2 pki ticket --cn CN --salt SALT`
 * prints. Runs in the thread pool (about 20 ms of work each), off the event loop.
 */
export function icingaTicket(cn: string, salt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    pbkdf2(cn, salt, TICKET_ITERATIONS, TICKET_BYTES, 'sha1', (err, key) =>
      err ? reject(err) : resolve(key.toString('hex')),
    );
  });
}

/** Tickets of hosts, computed with the server's salt (`director.ticket_salt`). */
export interface TicketService {
  /** The Icinga 2 ticket of the host named `hostName` (its name is the common name). */
  ticketFor(hostName: string): Promise<string>;
}

/** The ticket service over a salt; the salt stays inside it and is never logged. */
export function createTicketService(salt: string): TicketService {
  if (salt === '') throw new Error('the ticket salt is empty');
  return { ticketFor: (hostName) => icingaTicket(hostName, salt) };
}
