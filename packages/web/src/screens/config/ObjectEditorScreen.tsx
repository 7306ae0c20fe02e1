import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, navigate } from '../../app/router';
import { useCan } from '../../app/session';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { Loading, Page } from '../../ui/Page';
import { ApiKeySection } from './ApiKeySection';
import { editorPath, KINDS, type KindInfo, type ScreenId } from './kinds';
import { NameFields } from './NameFields';
import { ObjectForm } from './ObjectForm';
import { PreviewPanel } from './PreviewPanel';
import {
  configKeys,
  createObject,
  deleteObject,
  replaceObject,
  useObject,
  useObjects,
  type ConfigObject,
  type Draft,
} from './queries';
import './config.css';

/** The editable part of an object, as a create or a replace sends it. */
const draftOf = (o: ConfigObject): Draft => ({
  object_name: o.object_name,
  object_type: o.object_type,
  host: o.host,
  imports: o.imports,
  vars: o.vars,
  properties: o.properties,
  disabled: o.disabled,
});

/**
 * The editor of one configuration object (`/config/<screen>/<name>`, a service with `?host=`),
 * or of a new one (`name` null): its name, imports, properties and variables, with the
 * inheritance preview beside it. With `config:write`: save and delete (asked first).
 */
export function ObjectEditorScreen(props: {
  screen: ScreenId;
  name: string | null;
  host: string | null;
}) {
  const info = KINDS[props.screen];
  const object = useObject(props.screen, props.name, props.host);
  const title = props.name ? `${capital(info.one)} ${props.name}` : `New ${info.one}`;
  const back = <Link to={`/config/${props.screen}`}>← {info.title}</Link>;
  if (object.error)
    return (
      <Page title={title} subtitle={back}>
        <ErrorView error={object.error} onRetry={() => void object.refetch()} />
      </Page>
    );
  if (props.name !== null && !object.data)
    return (
      <Page title={title} subtitle={back}>
        <Loading height={420} />
      </Page>
    );
  return (
    <Editor
      key={`${props.screen}/${props.name ?? ''}/${props.host ?? ''}`}
      info={info}
      title={title}
      back={back}
      object={object.data ?? null}
      host={props.host}
    />
  );
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function Editor(props: {
  info: KindInfo;
  title: string;
  back: ReactNode;
  object: ConfigObject | null;
  host: string | null;
}) {
  const { info, object } = props;
  const can = useCan();
  const qc = useQueryClient();
  const write = can('config:write');
  const [draft, setDraft] = useState<Draft>(
    () =>
      (object && draftOf(object)) ?? {
        object_name: '',
        object_type: info.objectType,
        host: info.id === 'services' ? props.host : null,
        imports: [],
        vars: {},
        properties: {},
        disabled: false,
      },
  );
  const [deleting, setDeleting] = useState(false);
  const templates = useObjects(info.templates ?? info.id, info.imports);
  const commands = useObjects(
    'commands',
    info.fields.some((f) => f.type === 'command'),
  );
  const groups = useObjects(
    'host-groups',
    info.fields.some((f) => f.type === 'groups'),
  );
  const templateNames = (templates.data ?? [])
    .filter((o) => o.object_type === 'template')
    .map((o) => o.object_name);

  const save = useMutation({
    mutationFn: () =>
      object
        ? replaceObject(info.id, object.object_name, object.host, draft)
        : createObject(info.id, { ...draft, object_name: (draft.object_name ?? '').trim() }),
    onSuccess: async (saved) => {
      qc.setQueryData(configKeys.item(info.id, saved.object_name, saved.host), saved);
      await qc.invalidateQueries({ queryKey: configKeys.list(info.id), exact: true });
      await qc.invalidateQueries({ queryKey: ['deployments', 'pending-diff'] });
      if (!object) navigate(editorPath(info.id, saved.object_name, saved.host), { replace: true });
    },
  });
  const remove = useMutation({
    mutationFn: () => deleteObject(info.id, object!.object_name, object!.host),
    onSuccess: async () => {
      setDeleting(false);
      await qc.invalidateQueries({ queryKey: configKeys.list(info.id), exact: true });
      navigate(`/config/${info.id}`);
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }
  const errors = [templates.error, commands.error, groups.error].filter(Boolean);

  return (
    <Page
      title={props.title}
      subtitle={props.back}
      actions={
        write &&
        object && (
          <button
            type="button"
            className="danger"
            onClick={() => {
              remove.reset();
              setDeleting(true);
            }}
          >
            Delete {info.one}
          </button>
        )
      }
    >
      {errors.map((e, i) => (
        <ErrorView key={i} error={e} />
      ))}
      <div className="config-layout">
        <section aria-label="Configuration">
          <form className="stack" onSubmit={submit}>
            <NameFields
              info={info}
              draft={draft}
              isNew={!object}
              readOnly={!write}
              onChange={setDraft}
            />
            <ObjectForm
              info={info}
              fields={info.fields}
              draft={draft}
              onChange={setDraft}
              templates={templateNames}
              commands={(commands.data ?? [])
                .filter((c) => c.object_type === 'object')
                .map((c) => c.object_name)}
              groups={(groups.data ?? []).map((g) => g.object_name)}
              resetKey={object?.object_name ?? 'new'}
              readOnly={!write}
            />
            <div role="status" aria-live="polite">
              {save.isSuccess && !save.isPending && <p className="ok-text">Saved.</p>}
            </div>
            {save.error && <ErrorView error={save.error} />}
            {write && (
              <div className="actions">
                <button type="submit" className="primary" disabled={save.isPending}>
                  {object ? `Save ${info.one}` : `Create ${info.one}`}
                </button>
              </div>
            )}
          </form>
        </section>
        <div className="stack">
          <PreviewPanel kind={info.kind} draft={draft} />
          {write && object && info.id === 'host-templates' && (
            <ApiKeySection template={object.object_name} />
          )}
        </div>
      </div>
      <ConfirmDialog
        open={deleting}
        title={`Delete ${info.one} ${object?.object_name ?? ''}?`}
        confirmLabel={`Delete ${info.one}`}
        danger
        busy={remove.isPending}
        onClose={() => setDeleting(false)}
        onConfirm={() => remove.mutate()}
      >
        <p>
          {info.objectType === 'template'
            ? 'A template that objects still import cannot be deleted: remove the imports first.'
            : 'It is gone from the configuration at the next deploy.'}
        </p>
        {remove.error && <ErrorView error={remove.error} />}
      </ConfirmDialog>
    </Page>
  );
}
