import { randomBytes } from 'node:crypto';

/** Where the instance secret is kept: the `settings` table, shared by every server process. */
export interface InstanceSecretStore {
  /** Stores `value` under `key` unless the key already holds one (then leaves it). */
  insertIfAbsent(key: string, value: string): Promise<void>;
  /** The value under `key`; undefined when the key holds none. */
  get(key: string): Promise<string | undefined>;
}

/**
 * Returns the instance secret (32 random bytes) kept in the `settings` table, creating it on first
 * use. It is shared by every process on the same database, so a cursor signed by one verifies on
 * another.
 * @throws Error when the secret can be neither stored nor read.
 */
export async function instanceSecret(store: InstanceSecretStore): Promise<Buffer> {
  await store.insertIfAbsent('instance_secret', randomBytes(32).toString('base64'));
  const value = await store.get('instance_secret');
  if (value === undefined) throw new Error('the instance secret is missing from settings');
  return Buffer.from(value, 'base64');
}
