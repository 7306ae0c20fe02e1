import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';

/** A credential as `GET /api/v1/credentials` lists it: never a secret, only what describes it. */
export type Credential = Answer<'/api/v1/credentials'>['items'][number];

/** The query key of the credentials list. */
export const CREDENTIALS_KEY = ['credentials'] as const;

/** Every credential (`GET /api/v1/credentials`). */
export function useCredentials() {
  return useQuery({
    queryKey: CREDENTIALS_KEY,
    queryFn: () => unwrap(api.GET('/api/v1/credentials')),
  });
}

/** How a credential signs in, in words. */
export const METHOD_TEXT: Record<Credential['auth_method'], string> = {
  ssh_key: 'SSH key',
  password: 'Password',
  both: 'SSH key and password',
};

/** A credential's key type and size (`ED25519 256 bits`), or null without a key. */
export function keyKind(c: Credential): string | null {
  if (!c.has_private_key) return null;
  return [c.ssh_key_type, c.ssh_key_bits ? `${c.ssh_key_bits} bits` : null]
    .filter(Boolean)
    .join(' ');
}

/** What a credential's key is, in one line: `ED25519 256 bits · SHA256:…`, or null without one. */
export function keyText(c: Credential): string | null {
  if (!c.has_private_key) return null;
  return [keyKind(c), c.ssh_key_fingerprint].filter(Boolean).join(' · ');
}
