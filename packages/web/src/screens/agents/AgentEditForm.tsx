import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import type { BodyOf } from '../../api/types';
import { ErrorView } from '../../ui/ErrorView';
import { agentKeys, type Agent } from './queries';

type Patch = BodyOf<'/api/v1/agents/{id}', 'patch'>;

/**
 * Changes an agent (`PATCH /api/v1/agents/{id}`): its name and interval, and for a pull agent its
 * address, Auto-TLS choice and HTTP Basic credentials (the password is write-only: left empty it
 * stays as it is).
 */
export function AgentEditForm({ agent, onSaved }: { agent: Agent; onSaved: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(agent.name);
  const [interval, setIntervalText] = useState(String(agent.interval_seconds));
  const [address, setAddress] = useState(agent.pull?.address ?? '');
  const [autotls, setAutotls] = useState(agent.pull?.autotls ?? 'auto');
  const [username, setUsername] = useState(agent.pull?.username ?? '');
  const [password, setPassword] = useState('');
  const save = useMutation({
    mutationFn: (body: Patch) =>
      unwrap(api.PATCH('/api/v1/agents/{id}', { params: { path: { id: agent.id } }, body })),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: agentKeys.all });
      onSaved();
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    const body: Patch = {};
    if (name !== agent.name) body.name = name;
    if (interval !== String(agent.interval_seconds)) body.interval_seconds = Number(interval);
    if (agent.pull) {
      if (address !== agent.pull.address) body.address = address;
      if (autotls !== agent.pull.autotls) body.autotls = autotls;
      if (username !== (agent.pull.username ?? '')) body.username = username || null;
      if (password) body.password = password;
    }
    save.mutate(body);
  }

  return (
    <form className="stack edit-agent" onSubmit={submit} aria-labelledby="agent-edit">
      <h3 id="agent-edit">Change</h3>
      <div className="form-grid">
        <label>
          Name
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Interval (seconds)
          <input
            type="number"
            min={1}
            max={3600}
            required
            value={interval}
            onChange={(e) => setIntervalText(e.target.value)}
          />
        </label>
        {agent.pull && (
          <>
            <label>
              Address (host:port)
              <input required value={address} onChange={(e) => setAddress(e.target.value)} />
            </label>
            <label>
              Auto-TLS
              <select
                value={autotls}
                onChange={(e) => setAutotls(e.target.value as typeof autotls)}
              >
                <option value="auto">Auto (use it when the agent offers it)</option>
                <option value="on">On (required)</option>
                <option value="off">Off</option>
              </select>
            </label>
            <label>
              HTTP Basic user
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
                value={password}
                placeholder={agent.pull.has_password ? 'unchanged' : 'none'}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
          </>
        )}
      </div>
      {save.error && <ErrorView error={save.error} />}
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save changes'}
        </button>
      </div>
    </form>
  );
}
