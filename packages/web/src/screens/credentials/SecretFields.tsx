import { keyText, type Credential } from './queries';

/** The secrets being typed: never filled from the server. */
export interface Secrets {
  privateKey: string;
  passphrase: string;
  password: string;
  removeKey: boolean;
  removePassword: boolean;
}

/**
 * The write-only secret fields of a credential: a private key with its passphrase, and a
 * password, as its sign-in method needs. A stored secret is described (the key's type and
 * fingerprint, "a password is stored"), never shown; it can be replaced or removed.
 */
export function SecretFields(props: {
  credential: Credential | null;
  usesKey: boolean;
  usesPassword: boolean;
  secrets: Secrets;
  onChange: (patch: Partial<Secrets>) => void;
}) {
  const { credential, usesKey, usesPassword, secrets: s } = props;
  const set = props.onChange;
  const storedKey = credential ? keyText(credential) : null;
  return (
    <>
      {usesKey && (
        <fieldset className="config-fieldset">
          <legend>SSH key</legend>
          {storedKey && !s.removeKey && (
            <p>
              Stored: <code>{storedKey}</code>
              {credential?.has_passphrase ? ' (with a passphrase)' : ''}. Paste a new key to replace
              it.
            </p>
          )}
          <label>
            Private key {credential?.has_private_key ? '(leave empty to keep the stored one)' : ''}
            <textarea
              rows={5}
              spellCheck={false}
              autoComplete="off"
              value={s.privateKey}
              placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
              onChange={(e) => set({ privateKey: e.target.value })}
            />
          </label>
          <label>
            Key passphrase (optional)
            <input
              type="password"
              autoComplete="new-password"
              value={s.passphrase}
              onChange={(e) => set({ passphrase: e.target.value })}
            />
          </label>
          {credential?.has_private_key && (
            <label className="inline">
              <input
                type="checkbox"
                checked={s.removeKey}
                onChange={(e) => set({ removeKey: e.target.checked })}
              />
              Remove the stored key
            </label>
          )}
        </fieldset>
      )}
      {usesPassword && (
        <fieldset className="config-fieldset">
          <legend>Password</legend>
          {credential?.has_password && !s.removePassword && (
            <p>A password is stored. Type a new one to replace it.</p>
          )}
          <label>
            Password {credential?.has_password ? '(leave empty to keep the stored one)' : ''}
            <input
              type="password"
              autoComplete="new-password"
              value={s.password}
              onChange={(e) => set({ password: e.target.value })}
            />
          </label>
          {credential?.has_password && (
            <label className="inline">
              <input
                type="checkbox"
                checked={s.removePassword}
                onChange={(e) => set({ removePassword: e.target.checked })}
              />
              Remove the stored password
            </label>
          )}
        </fieldset>
      )}
    </>
  );
}
