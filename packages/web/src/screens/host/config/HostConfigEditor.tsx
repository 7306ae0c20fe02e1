import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../../api/client';
import { useCan } from '../../../app/session';
import { ErrorView } from '../../../ui/ErrorView';
import { Loading } from '../../../ui/Page';
import { KINDS } from '../../config/kinds';
import { ObjectForm } from '../../config/ObjectForm';
import { PreviewPanel } from '../../config/PreviewPanel';
import { useObjects, type ConfigObject, type Draft } from '../../config/queries';
import '../../config/config.css';

const HOST = KINDS['host-templates'];

/**
 * A host's own configuration (`GET`/`PUT /api/v1/hosts/{id}/config`): the templates it imports,
 * its properties and custom variables, beside the inheritance preview (each resolved value with
 * the template it comes from) and its services, own and inherited. `config:write` saves.
 */
export function HostConfigEditor({ hostId }: { hostId: string }) {
  const config = useQuery({
    queryKey: ['hosts', hostId, 'config'],
    staleTime: Infinity,
    queryFn: () =>
      unwrap(api.GET('/api/v1/hosts/{id}/config', { params: { path: { id: hostId } } })),
  });
  if (config.error) return <ErrorView error={config.error} onRetry={() => void config.refetch()} />;
  if (!config.data) return <Loading height={420} />;
  return <Editor hostId={hostId} object={config.data} />;
}

function Editor({ hostId, object }: { hostId: string; object: ConfigObject }) {
  const can = useCan();
  const qc = useQueryClient();
  const write = can('config:write');
  const [draft, setDraft] = useState<Draft>({
    object_name: object.object_name,
    object_type: 'object',
    imports: object.imports,
    vars: object.vars,
    properties: object.properties,
    disabled: object.disabled,
  });
  const templates = useObjects('host-templates');
  const commands = useObjects('commands');
  const groups = useObjects('host-groups');
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PUT('/api/v1/hosts/{id}/config', {
          params: { path: { id: hostId } },
          body: {
            imports: draft.imports ?? [],
            vars: draft.vars ?? {},
            properties: draft.properties ?? {},
            disabled: draft.disabled ?? false,
          },
        }),
      ),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['deployments', 'pending-diff'] });
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }
  const errors = [templates.error, commands.error, groups.error].filter(Boolean);
  return (
    <div className="config-layout">
      <section aria-labelledby="host-config-title">
        <h2 id="host-config-title">Configuration</h2>
        {errors.map((e, i) => (
          <ErrorView key={i} error={e} />
        ))}
        <form className="stack" onSubmit={submit}>
          <ObjectForm
            info={HOST}
            fields={HOST.fields}
            draft={draft}
            onChange={setDraft}
            templates={(templates.data ?? []).map((t) => t.object_name)}
            commands={(commands.data ?? [])
              .filter((c) => c.object_type === 'object')
              .map((c) => c.object_name)}
            groups={(groups.data ?? []).map((g) => g.object_name)}
            resetKey={hostId}
            readOnly={!write}
          />
          <label className="inline">
            <input
              type="checkbox"
              disabled={!write}
              checked={draft.disabled ?? false}
              onChange={(e) => setDraft({ ...draft, disabled: e.target.checked })}
            />
            Disabled (left out of deployments)
          </label>
          <div role="status" aria-live="polite">
            {save.isSuccess && !save.isPending && <p className="ok-text">Saved.</p>}
          </div>
          {save.error && <ErrorView error={save.error} />}
          {write && (
            <div className="actions">
              <button type="submit" className="primary" disabled={save.isPending}>
                Save configuration
              </button>
            </div>
          )}
        </form>
      </section>
      <PreviewPanel kind="host" draft={draft} services />
    </div>
  );
}
