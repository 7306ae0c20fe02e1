import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import type { BodyOf } from '../../api/types';
import { Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { HostPicker } from './HostPicker';
import { SecretFields } from './SecretFields';
import { CREDENTIALS_KEY, METHOD_TEXT, type Credential } from './queries';

type Method = Credential['auth_method'];

/**
 * Creates a credential (`POST /api/v1/credentials`) or changes one (`PATCH
 * /api/v1/credentials/{id}`). Secrets are write-only: the private key, its passphrase and the
 * password are never filled from the server; a field left empty keeps what is stored, and
 * "Remove" takes a stored secret away.
 */
export function CredentialFormDialog(props: {
  open: boolean;
  credential: Credential | null;
  onClose: () => void;
}) {
  return (
    <Dialog
      open={props.open}
      title={props.credential ? `Change credential ${props.credential.name}` : 'Create credential'}
      onClose={props.onClose}
      wide
    >
      <CredentialForm credential={props.credential} onDone={props.onClose} />
    </Dialog>
  );
}

function CredentialForm({
  credential,
  onDone,
}: {
  credential: Credential | null;
  onDone: () => void;
}) {
  const qc = useQueryClient();
  const [name, setName] = useState(credential?.name ?? '');
  const [description, setDescription] = useState(credential?.description ?? '');
  const [scope, setScope] = useState<'system' | 'host'>(credential?.scope ?? 'system');
  const [hostId, setHostId] = useState(credential?.host_id ?? '');
  const [username, setUsername] = useState(credential?.username ?? '');
  const [method, setMethod] = useState<Method>(credential?.auth_method ?? 'ssh_key');
  const [privateKey, setPrivateKey] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [password, setPassword] = useState('');
  const [removeKey, setRemoveKey] = useState(false);
  const [removePassword, setRemovePassword] = useState(false);
  const [isDefault, setIsDefault] = useState(credential?.is_default ?? false);
  const usesKey = method !== 'password';
  const usesPassword = method !== 'ssh_key';

  const save = useMutation({
    mutationFn: () => {
      const secrets = {
        ...(usesKey && privateKey.trim() ? { private_key: privateKey } : {}),
        ...(usesKey && passphrase ? { private_key_passphrase: passphrase } : {}),
        ...(usesPassword && password ? { password } : {}),
      };
      if (credential) {
        const body: BodyOf<'/api/v1/credentials/{id}', 'patch'> = {
          name: name.trim(),
          description: description.trim() || null,
          username: username.trim(),
          auth_method: method,
          is_default: isDefault,
          ...secrets,
          ...(removeKey || !usesKey ? { private_key: null, private_key_passphrase: null } : {}),
          ...(removePassword || !usesPassword ? { password: null } : {}),
        };
        return unwrap(
          api.PATCH('/api/v1/credentials/{id}', { params: { path: { id: credential.id } }, body }),
        );
      }
      const body: BodyOf<'/api/v1/credentials', 'post'> = {
        name: name.trim(),
        description: description.trim() || null,
        scope,
        host_id: scope === 'host' ? hostId : null,
        username: username.trim(),
        auth_method: method,
        is_default: isDefault,
        ...secrets,
      };
      return unwrap(api.POST('/api/v1/credentials', { body }));
    },
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: CREDENTIALS_KEY });
      onDone();
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }

  return (
    <form className="stack" onSubmit={submit}>
      <div className="config-grid">
        <label>
          Name
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label>
          User name
          <input
            required
            autoComplete="off"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          Sign in with
          <select value={method} onChange={(e) => setMethod(e.target.value as Method)}>
            {(Object.keys(METHOD_TEXT) as Method[]).map((m) => (
              <option key={m} value={m}>
                {METHOD_TEXT[m]}
              </option>
            ))}
          </select>
        </label>
        {credential ? (
          <p className="muted">
            Scope: {credential.scope === 'host' ? `host ${credential.host_id ?? ''}` : 'system'}{' '}
            (clone it to use it elsewhere)
          </p>
        ) : (
          <label>
            Scope
            <select value={scope} onChange={(e) => setScope(e.target.value as 'system' | 'host')}>
              <option value="system">System (every host)</option>
              <option value="host">One host</option>
            </select>
          </label>
        )}
        {!credential && scope === 'host' && <HostPicker value={hostId} onChange={setHostId} />}
      </div>
      <SecretFields
        credential={credential}
        usesKey={usesKey}
        usesPassword={usesPassword}
        secrets={{ privateKey, passphrase, password, removeKey, removePassword }}
        onChange={(p) => {
          if (p.privateKey !== undefined) setPrivateKey(p.privateKey);
          if (p.passphrase !== undefined) setPassphrase(p.passphrase);
          if (p.password !== undefined) setPassword(p.password);
          if (p.removeKey !== undefined) setRemoveKey(p.removeKey);
          if (p.removePassword !== undefined) setRemovePassword(p.removePassword);
        }}
      />
      <label className="inline">
        <input
          type="checkbox"
          checked={isDefault}
          onChange={(e) => setIsDefault(e.target.checked)}
        />
        The default credential of its scope
      </label>
      {save.error && <ErrorView error={save.error} />}
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          {credential ? 'Save credential' : 'Create credential'}
        </button>
      </div>
    </form>
  );
}
