import { ArgumentsEditor } from './ArgumentsEditor';
import { ImportsEditor } from './ImportsEditor';
import type { Json } from './json';
import type { Field, KindInfo } from './kinds';
import { PropertyFields } from './PropertyFields';
import type { Draft } from './queries';
import { VarsEditor } from './VarsEditor';

/**
 * The fields of a configuration object being edited: its imports (ordered), its kind's common
 * properties, a command's arguments and its custom variables. Each change hands the parent a new
 * draft. `resetKey` names the object shown: when it changes, the row editors start again.
 */
export function ObjectForm(props: {
  info: Pick<KindInfo, 'kind' | 'vars' | 'imports'>;
  fields: readonly Field[];
  draft: Draft;
  onChange: (draft: Draft) => void;
  templates: readonly string[];
  commands: readonly string[];
  groups: readonly string[];
  resetKey: string;
  readOnly?: boolean;
}) {
  const d = props.draft;
  const properties = (d.properties ?? {}) as Record<string, Json>;
  const set = (patch: Partial<Draft>) => props.onChange({ ...d, ...patch });
  return (
    <div className="stack">
      {props.info.imports && (
        <ImportsEditor
          value={d.imports ?? []}
          available={props.templates}
          self={d.object_name}
          readOnly={props.readOnly}
          onChange={(imports) => set({ imports })}
        />
      )}
      <fieldset className="config-fieldset">
        <legend>Properties</legend>
        <p className="muted small">Empty fields are inherited from the imports.</p>
        <PropertyFields
          fields={props.fields}
          value={properties}
          commands={props.commands}
          groups={props.groups}
          readOnly={props.readOnly}
          onChange={(p) => set({ properties: p })}
        />
      </fieldset>
      {props.info.kind === 'command' && (
        <ArgumentsEditor
          key={`args-${props.resetKey}`}
          value={properties.arguments as Record<string, Json> | undefined}
          readOnly={props.readOnly}
          onChange={(args) => {
            const next = { ...properties };
            if (Object.keys(args).length === 0) delete next.arguments;
            else next.arguments = args;
            set({ properties: next });
          }}
        />
      )}
      {props.info.vars && (
        <VarsEditor
          key={`vars-${props.resetKey}`}
          value={(d.vars ?? {}) as Record<string, Json>}
          readOnly={props.readOnly}
          onChange={(vars) => set({ vars })}
        />
      )}
    </div>
  );
}
