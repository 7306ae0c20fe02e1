import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorView } from '../../ui/ErrorView';
import { agentKeys } from './queries';

/**
 * Adds an agent this server pulls from (`POST /api/v1/agents` with `address`): the agent's web
 * server address, optional HTTP Basic credentials (its `auth`), and whether to use Auto-TLS.
 */
export function PullAgentTab({ onDone }: { onDone: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [autotls, setAutotls] = useState<'auto' | 'on' | 'off'>('auto');
  const add = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/agents', {
          body: {
            name: name.trim() || address.trim(),
            address: address.trim(),
            autotls,
            ...(username ? { username, password } : {}),
          },
        }),
      ),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: agentKeys.all });
      onDone();
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    add.mutate();
  }
  return (
    <form className="stack" onSubmit={submit}>
      <p>
        The server connects to the agent&apos;s web server (port 3333 by default) every interval and
        reads its data, as openITCOCKPIT does in pull mode.
      </p>
      <div className="form-grid">
        <label>
          Address (host:port)
          <input
            required
            value={address}
            placeholder="db1.example.com:3333"
            onChange={(e) => setAddress(e.target.value)}
          />
        </label>
        <label>
          Name
          <input
            value={name}
            placeholder="The address when empty"
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <label>
          HTTP Basic user (optional)
          <input
            autoComplete="off"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          HTTP Basic password
          <input
            type="password"
            autoComplete="new-password"
            disabled={!username}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label>
          Auto-TLS
          <select value={autotls} onChange={(e) => setAutotls(e.target.value as typeof autotls)}>
            <option value="auto">Auto (use it when the agent offers it)</option>
            <option value="on">On (required)</option>
            <option value="off">Off (plain HTTP)</option>
          </select>
        </label>
      </div>
      {add.error && <ErrorView error={add.error} />}
      <div className="actions">
        <button type="submit" className="primary" disabled={add.isPending}>
          {add.isPending ? 'Adding…' : 'Add pull agent'}
        </button>
      </div>
    </form>
  );
}
