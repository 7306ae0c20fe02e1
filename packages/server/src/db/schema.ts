import type { Generated } from 'kysely';

/**
 * Table types of the store, shared by the SQLite and PostgreSQL dialects. Timestamps are integers
 * (milliseconds since the Unix epoch) and booleans are 0/1 integers on both databases, so a query
 * reads the same values whichever runs it; JSON documents are stored as text.
 */
export interface Database {
  schema_migrations: { version: number; name: string; applied_at: number };
  settings: { key: string; value: string };
  users: {
    id: string;
    username: string;
    email: string | null;
    password_hash: string;
    auth_provider: string;
    created_at: number;
    updated_at: number;
    last_login_at: number | null;
    disabled_at: number | null;
    must_change_password: number;
    /** The TOTP secret, sealed (secrets/sealer.ts); null without MFA. */
    mfa_secret: string | null;
    /** A secret enrolled but not yet confirmed with a code. */
    mfa_pending_secret: string | null;
    mfa_enabled_at: number | null;
    /** The last TOTP time step accepted: a code is good once. */
    mfa_last_step: number | null;
  };
  roles: {
    id: string;
    name: string;
    description: string;
    permissions: string;
    is_system: number;
    created_at: number;
    updated_at: number;
  };
  user_roles: { user_id: string; role_id: string };
  sessions: {
    id: string;
    user_id: string;
    created_at: number;
    expires_at: number;
    revoked_at: number | null;
    revoked_reason: string | null;
    source_address: string | null;
    /** The OAuth client (`client_id`) the session was opened through; null for a login. */
    client_id: string | null;
  };
  session_tokens: {
    token_hash: string;
    session_id: string;
    kind: 'access' | 'refresh' | 'cookie';
    created_at: number;
    expires_at: number;
    used_at: number | null;
  };
  audit_events: {
    id: string;
    occurred_at: number;
    actor_type: string;
    actor_id: string | null;
    actor_label: string | null;
    action: string;
    resource_type: string | null;
    resource_id: string | null;
    correlation_id: string | null;
    source_address: string | null;
    detail: string;
    redactions: string;
    /** The OAuth client the actor acted through. */
    actor_client: string | null;
  };
  hosts: {
    id: string;
    name: string;
    address: string | null;
    created_at: number;
    updated_at: number;
    display_name: string | null;
    address6: string | null;
    description: string | null;
    environment: string | null;
    /** JSON array of strings. */
    tags: Generated<string>;
    port: number | null;
    username: string | null;
    group_id: string | null;
    /** JSON array of host template names, in import order. */
    imports: Generated<string>;
    /** JSON object: the host's own custom variables. */
    vars: Generated<string>;
    /** JSON object: the other configuration properties set on the host. */
    properties: Generated<string>;
    disabled: Generated<number>;
    /** The hash of the host's self-service API key. */
    api_key_hash: string | null;
    maintenance_until: number | null;
    maintenance_reason: string | null;
    /** Set when the host was deleted (soft delete): invisible to every face from then on. */
    deleted_at: number | null;
  };
  /** Host templates, services, service templates, commands and host groups. */
  config_objects: {
    id: string;
    kind: 'host' | 'service' | 'command' | 'hostgroup';
    object_type: 'object' | 'template';
    object_name: string;
    /** The host id of a service attached to one host; '' otherwise. */
    scope: string;
    imports: string;
    vars: string;
    properties: string;
    disabled: number;
    api_key_hash: string | null;
    created_at: number;
    updated_at: number;
  };
  /** Immutable snapshots of the whole configuration. */
  deployments: {
    id: string;
    checksum: string;
    created_at: number;
    created_by: string | null;
    snapshot: string;
    objects: number;
    /** When it last became the active deployment (epoch ms); null if it never did. */
    activated_at: number | null;
  };
  /** SSH credentials; every secret sealed (secrets/sealer.ts). */
  credentials: {
    id: string;
    name: string;
    description: string | null;
    scope: 'system' | 'host';
    host_id: string | null;
    username: string;
    auth_method: 'ssh_key' | 'password' | 'both';
    private_key_sealed: string | null;
    passphrase_sealed: string | null;
    password_sealed: string | null;
    key_fingerprint: string | null;
    key_type: string | null;
    key_bits: number | null;
    is_default: number;
    created_at: number;
    updated_at: number;
  };
  /** What the connectivity worker last found for each host. */
  host_liveness: {
    host_id: string;
    state: 'reachable' | 'unreachable';
    checked_at: number;
    consecutive_failures: number;
    response_ms: number | null;
    error: string | null;
    ssh_ok: number | null;
  };
  /** What agentless discovery last found on each host (migration 15). */
  host_discovery: {
    host_id: string;
    discovered_at: number;
    /** JSON: the system-info facts parsed from the discovery commands; null when it failed. */
    facts: string | null;
    error: string | null;
  };
  agents: {
    id: string;
    name: string;
    host_id: string | null;
    kind: 'oitc' | 'native' | 'pull';
    approval: 'pending' | 'approved' | 'rejected' | 'revoked';
    hostname: string | null;
    ip_address: string | null;
    os: string | null;
    architecture: string | null;
    version: string | null;
    interval_seconds: number;
    /** argon2id hash of the openITCOCKPIT push password or of a native enrollment's poll secret. */
    secret_hash: string | null;
    enrollment_token_hash: string | null;
    enrollment_expires_at: number | null;
    /** PEM request of a native enrollment that waits for approval. */
    csr: string | null;
    cert_serial: string | null;
    cert_fingerprint: string | null;
    cert_not_after: number | null;
    /** The certificate issued to a pending enrollment at approval, until the agent fetches it. */
    cert_pem: string | null;
    pull_address: string | null;
    pull_tls: 'plain' | 'mtls' | 'certificate_deleted' | 'autotls_failed' | null;
    /** Whether the server runs Auto-TLS with this pull agent: `auto`, `on` or `off`. */
    pull_autotls: Generated<'auto' | 'on' | 'off'>;
    /** HTTP Basic user name for a pull agent with `auth = user:password`. */
    pull_username: string | null;
    /** Its password, sealed with the master key (never returned by the API). */
    pull_password: string | null;
    /** Source address of a self-registration, which bounds pending requests per address. */
    enrolled_from: string | null;
    last_seen: number | null;
    last_error: string | null;
    /** Seconds the agent's clock was ahead beyond the allowed skew; null while it is fine. */
    clock_skew_seconds: number | null;
    registered_at: number;
    updated_at: number;
  };
  agent_documents: {
    agent_id: string;
    collected_at: number;
    received_at: number;
    document: string;
  };
  agent_inventories: {
    agent_id: string;
    received_at: number;
    inventory: string;
  };
  /** One time series of a host: a metric and its labels, as a key (`metric{label="v"}`). */
  series: { id: Generated<number>; host_id: string; key: string; created_at: number };
  /** An ordered list of series ids: the positions of the values in a packed sample row. */
  series_layouts: {
    id: Generated<number>;
    host_id: string;
    hash: string;
    series_ids: string;
    created_at: number;
  };
  /**
   * A small integer per host for the time-series tables below, which name hosts by it: an index
   * entry of a few bytes instead of a 36-character id. Never deleted or changed, so a process may
   * keep what it has looked up.
   */
  host_keys: { id: Generated<number>; host_id: string };
  /** One push's values (Float64, little-endian, in layout order); the host by its key. */
  samples: { host_key: number; ts: number; layout_id: number; vals: Uint8Array };
  /** Rollup rows: per series sum, min, max and count (Float64 each), in layout order. */
  rollup_1m: RollupRow;
  rollup_5m: RollupRow;
  rollup_1h: RollupRow;
  /** The current Nagios-style state of each check of each host. */
  check_states: {
    host_id: string;
    name: string;
    state: number;
    state_type: 'soft' | 'hard';
    attempt: number;
    hard_state: number;
    last_check: number;
    last_state_change: number;
    last_hard_change: number;
    output: string;
    perfdata: string;
  };
  /** Every change of a check's state or state type. */
  check_history: {
    host_id: string;
    name: string;
    ts: number;
    state: number;
    state_type: 'soft' | 'hard';
    attempt: number;
    output: string;
  };
  /** The host-level series' rollups again, `HEAD_CHUNK_BUCKETS` buckets per row (tsdb.ts). */
  rollup_heads: { resolution: string; host_key: number; chunk: number; data: Uint8Array };
  /** OAuth 2.0 API clients (the Cockpit face); the secret is kept only as a SHA-256 hash. */
  oauth_clients: {
    id: string;
    client_id: string;
    secret_hash: string;
    description: string;
    scope: string;
    access_token_ttl_seconds: number;
    refresh_token_ttl_seconds: number;
    allow_password: number;
    allow_refresh_token: number;
    /** 1: the client may use the client_credentials grant (migration 12). */
    allow_client_credentials: number;
    created_at: number;
    updated_at: number;
  };
  /** The roles a machine client acts with under the client_credentials grant (migration 12). */
  oauth_client_roles: { client_row_id: string; role_id: string };
  /** Access tokens of the client_credentials grant, kept only as SHA-256 hashes (migration 12). */
  oauth_client_tokens: {
    token_hash: string;
    client_row_id: string;
    created_at: number;
    expires_at: number;
    revoked_at: number | null;
  };
  /** Answers kept for `Idempotency-Key` retries (http/idempotency.ts); status null: running. */
  idempotency_keys: {
    identity: string;
    key: string;
    request_hash: string;
    method: string;
    path: string;
    status: number | null;
    response: string | null;
    content_type: string | null;
    created_at: number;
    expires_at: number;
  };
  /** The durable job queue (migration 17); `payload` JSON. */
  jobs: {
    id: string;
    kind: string;
    /** JSON. */
    payload: string;
    state: 'queued' | 'running' | 'succeeded' | 'dead';
    attempts: number;
    max_attempts: number;
    run_at: number;
    dedup_key: string | null;
    locked_by: string | null;
    locked_until: number | null;
    last_error: string | null;
    created_at: number;
    updated_at: number;
    finished_at: number | null;
  };
  /** Notification channels; `settings`, `filters` JSON, secrets sealed. */
  notification_channels: {
    id: string;
    name: string;
    type: string;
    enabled: number;
    settings: string;
    secrets_sealed: string | null;
    filters: string;
    group_wait_seconds: number;
    repeat_interval_seconds: number;
    rate_limit_per_hour: number;
    send_resolved: number;
    created_at: number;
    updated_at: number;
  };
  /** Alerts waiting in a notification group for its flush. */
  notification_pending: {
    channel_id: string;
    group_key: string;
    alert_id: string;
    event: string;
    created_at: number;
  };
  /** Rendered notification messages; `content`, `alert_ids` JSON. */
  notification_messages: {
    id: string;
    channel_id: string;
    kind: string;
    content: string;
    alert_ids: string;
    created_at: number;
    sent_at: number | null;
  };
  /** The delivery log: one row per alert and attempt of a message. */
  notification_deliveries: {
    id: string;
    alert_id: string;
    channel_id: string;
    message_id: string | null;
    event: string;
    outcome: string;
    status: number | null;
    error: string | null;
    duration_ms: number | null;
    at: number;
  };
  /** When each alert was last notified on each channel. */
  notification_alert_state: { alert_id: string; channel_id: string; last_notified_at: number };
  /** Alerts, open and closed (migration 19); booleans 0/1, `labels` JSON. */
  alerts: {
    id: string;
    dedup_key: string;
    rule_id: string;
    host_id: string;
    agent_id: string | null;
    labels: string;
    type: string;
    severity: string;
    state: string;
    message: string;
    value: number | null;
    threshold: number | null;
    suppressed: number;
    silenced_until: number | null;
    silenced_from: string | null;
    silence_id: string | null;
    started_at: number;
    updated_at: number;
    resolved_at: number | null;
  };
  /** Every step of an alert's life (migration 19). */
  alert_transitions: {
    id: string;
    alert_id: string;
    from_state: string | null;
    to_state: string;
    severity: string;
    actor_type: string;
    actor_id: string | null;
    actor_label: string | null;
    reason: string | null;
    at: number;
    seq: number;
  };
  /** Silences of alerts by matcher (migration 19); `labels` JSON. */
  alert_silences: {
    id: string;
    host_id: string | null;
    rule_id: string | null;
    labels: string;
    reason: string;
    starts_at: number;
    ends_at: number;
    created_by: string | null;
    created_at: number;
    applied_at: number | null;
  };
  /** Alert rules; `matchers`, `scope` and `params` are JSON; `enabled` and `builtin` 0/1. */
  alert_rules: {
    id: string;
    name: string;
    description: string | null;
    enabled: number;
    kind: string;
    metric: string | null;
    matchers: string;
    comparator: string | null;
    warning: number | null;
    critical: number | null;
    for_seconds: number;
    recovery: number | null;
    keep_firing_for_seconds: number;
    scope: string;
    params: string;
    builtin: number;
    created_at: number;
    updated_at: number;
  };
  /** Buckets whose rollups must be computed again because data arrived after they were. */
  rollup_dirty: { resolution: string; host_key: number; bucket: number };
  /** Leases of leadership on SQLite (migration 018). */
  job_leases: { name: string; holder: string; expires_at: number; renewed_at: number };
  /** Each cluster periodic job's last period run (migration 018). */
  periodic_runs: {
    name: string;
    last_period: number;
    runs: number;
    last_run_at: number | null;
    last_holder: string | null;
  };
  /** Log lines (migration 022); `fields` is a JSON object of strings. */
  log_entries: {
    id: Generated<number>;
    timestamp: number;
    received_at: number;
    host_id: string | null;
    agent_id: string | null;
    source: string;
    source_name: string;
    level: string;
    message: string;
    fields: string;
    /** Bytes of message and fields (UTF-8). */
    size: number;
  };
  /** Log batches stored, by agent (migration 022): a resent batch is a no-op. */
  log_batches: { agent_id: string; batch_id: string; at: number };
  /** Lines agents dropped before sending them (migration 022). */
  log_dropped: {
    agent_id: string;
    source: string;
    source_name: string;
    reason: string;
    count: number;
    updated_at: number;
  };
  /** What the log store holds: one row, id 1 (migration 022). */
  log_stats: { id: number; entries: number; bytes: number };
  /** Each compliance rule's current state per host (migration 023); times are epoch ms. */
  compliance_states: {
    host_id: string;
    pack_id: string;
    rule_id: string;
    status: string;
    detail: string | null;
    since: number;
    evaluated_at: number;
  };
  /** A compliance rule's status changes per host (migration 023). */
  compliance_changes: {
    id: Generated<number>;
    host_id: string;
    pack_id: string;
    rule_id: string;
    from_status: string;
    to_status: string;
    detail: string | null;
    at: number;
  };
  /** What host intelligence last knew of each host (migration 024); `state` is JSON. */
  intel_states: { host_id: string; state: string; updated_at: number };
  /** What changed on hosts (migration 024); `detail` is a JSON object. */
  intel_events: {
    id: Generated<number>;
    host_id: string;
    kind: string;
    subject: string;
    detail: string;
    at: number;
  };
}

/** A rollup row (see `rollup_1m`). */
export interface RollupRow {
  host_key: number;
  bucket: number;
  layout_id: number;
  data: Uint8Array;
}
