import { useQuery } from '@tanstack/react-query';
import { ErrorView } from '../../ui/ErrorView';
import { HOSTS_KEY, fetchFleet } from '../fleet/live';

/** Chooses one host of the fleet (from `GET /api/v1/hosts`, the fleet's own cached list). */
export function HostPicker(props: {
  value: string;
  onChange: (id: string) => void;
  label?: string;
}) {
  const hosts = useQuery({
    queryKey: HOSTS_KEY,
    queryFn: fetchFleet,
  });
  const items = hosts.data?.items ?? [];
  return (
    <>
      <label>
        {props.label ?? 'Host'}
        <select required value={props.value} onChange={(e) => props.onChange(e.target.value)}>
          <option value="">{hosts.isPending ? 'Loading hosts…' : 'Choose a host…'}</option>
          {items.map((h) => (
            <option key={h.id} value={h.id}>
              {h.name}
            </option>
          ))}
        </select>
      </label>
      {hosts.error ? <ErrorView error={hosts.error} onRetry={() => void hosts.refetch()} /> : null}
    </>
  );
}
