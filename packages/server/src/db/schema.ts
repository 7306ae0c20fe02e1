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
  };
  session_tokens: {
    token_hash: string;
    session_id: string;
    kind: 'access' | 'refresh';
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
  };
}
