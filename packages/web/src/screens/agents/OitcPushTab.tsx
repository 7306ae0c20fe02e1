import { CopyField } from '../../ui/CopyButton';

/**
 * The `[oitc]` block that points an openITCOCKPIT agent (or a Vigil agent in that mode) at this
 * server. The agent registers itself and then waits under Pending for an operator.
 */
export function OitcPushTab() {
  const origin = window.location.origin;
  const block = [
    '[oitc]',
    'enabled = True',
    `url = ${origin}`,
    '# The server’s agents.oitc_api_key; empty when it sets none.',
    'apikey =',
    '# True once the Vigil CA is in the system’s trust store.',
    'verify-server-certificate = False',
  ].join('\n');
  return (
    <div className="stack">
      <p>
        Add this section to the agent&apos;s <code>config.ini</code> and restart it. It registers
        with this server and appears under <strong>Pending</strong> on this page: approve it there
        and its data starts to arrive.
      </p>
      <CopyField value={block} label="Configuration block" />
      <ul className="small muted hints">
        <li>
          <code>apikey</code> is the <code>agents.oitc_api_key</code> of the server&apos;s
          configuration (<code>VIGIL_AGENTS_OITC_API_KEY</code>); without one, leave it empty.
        </li>
        <li>
          To verify the server, install its CA certificate (
          <a href="/api/v1/tls/ca?format=pem" download="vigil-ca.crt">
            download vigil-ca.crt
          </a>
          ) in the agent&apos;s system store and set <code>verify-server-certificate = True</code>.
        </li>
        <li>
          Networks or host names listed in <code>agents.auto_approve_networks</code> /{' '}
          <code>agents.auto_approve_hostnames</code> are approved without an operator.
        </li>
      </ul>
    </div>
  );
}
