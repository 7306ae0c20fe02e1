import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { CopyField } from '../../ui/CopyButton';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';

/**
 * A host template's self-service API key (`POST /api/v1/host-templates/{name}/api-key`): hosts
 * register themselves with it (`vigil-agent enroll --template-key`). A new key replaces the old
 * one and is shown once: the server keeps only its hash.
 */
export function ApiKeySection({ template }: { template: string }) {
  const [asking, setAsking] = useState(false);
  const issue = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/host-templates/{name}/api-key', { params: { path: { name: template } } }),
      ),
    onSuccess: () => setAsking(false),
  });
  return (
    <section className="card stack" aria-labelledby="api-key-title">
      <h2 id="api-key-title">Self-service API key</h2>
      <p className="muted small">
        Hosts register themselves into this template with its key:{' '}
        <code>vigil-agent enroll --template-key KEY</code>.
      </p>
      {issue.data ? (
        <>
          <p role="status">Shown once: copy it now. The server keeps only its hash.</p>
          <CopyField value={issue.data.api_key} label="API key" />
        </>
      ) : (
        <div>
          <button
            type="button"
            onClick={() => {
              issue.reset();
              setAsking(true);
            }}
          >
            New API key
          </button>
        </div>
      )}
      <ConfirmDialog
        open={asking}
        title={`New API key for ${template}?`}
        confirmLabel="Create key"
        busy={issue.isPending}
        onClose={() => setAsking(false)}
        onConfirm={() => issue.mutate()}
      >
        <p>
          A new key replaces the template&apos;s current key: hosts using the old one are refused.
        </p>
        {issue.error && <ErrorView error={issue.error} />}
      </ConfirmDialog>
    </section>
  );
}
