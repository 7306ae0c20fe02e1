/**
 * What the explorer shows while the server holds no log line at all: how an agent sends its logs
 * (`[logs]` in its config.ini) and how devices without an agent send theirs (syslog).
 */
export function EmptyLogs() {
  return (
    <div className="card stack log-empty" role="status">
      <p>
        <strong>No logs yet.</strong> Agents send log lines once their configuration names sources;
        devices without an agent can send theirs over syslog.
      </p>
      <div>
        <p>
          On a host with the agent, add a <code>[logs]</code> section to its <code>config.ini</code>{' '}
          and restart it:
        </p>
        <pre>
          {`[logs]
# The systemd journal (read from where it stopped, after a restart too).
journald = true
# Files, as comma-separated globs (rotation is followed).
files = /var/log/nginx/*.log, /srv/app/app.log
# Container logs, through the Docker socket when there is one.
docker = true`}
        </pre>
      </div>
      <div>
        <p>
          For switches, appliances and other machines without an agent, turn on the server's syslog
          listener (RFC 3164 and 5424, UDP and TCP) in <code>vigil.toml</code>, then point their
          syslog at it; their lines are filed under the host of the same address or name:
        </p>
        <pre>
          {`[syslog]
listen = ["udp://0.0.0.0:514", "tcp://0.0.0.0:514"]`}
        </pre>
      </div>
    </div>
  );
}
