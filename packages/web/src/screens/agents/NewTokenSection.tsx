import { useMutation } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { ErrorView } from '../../ui/ErrorView';
import { EnrollCommand } from './EnrollCommand';
import type { Agent } from './queries';

/**
 * Issues a new one-time enrollment token for a Vigil agent (`POST
 * /api/v1/agents/{id}/enrollment-token`): for a token that was lost or expired, or to enroll the
 * agent again on a rebuilt host. Shows the command to run with it.
 */
export function NewTokenSection({ agent }: { agent: Agent }) {
  const issue = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/agents/{id}/enrollment-token', {
          params: { path: { id: agent.id } },
        }),
      ),
  });
  return (
    <section className="edit-agent stack" aria-labelledby="agent-token">
      <h3 id="agent-token">Enrollment</h3>
      {issue.data ? (
        <EnrollCommand
          token={issue.data.enrollment_token}
          expiresAt={issue.data.enrollment_expires_at}
        />
      ) : (
        <>
          <p className="small muted">
            {agent.certificate
              ? 'To enroll this agent again (a rebuilt host, a lost key), issue a new token.'
              : 'This agent has not enrolled yet. If its token was lost or has expired, issue a new one.'}
          </p>
          {issue.error && <ErrorView error={issue.error} />}
          <div>
            <button type="button" disabled={issue.isPending} onClick={() => issue.mutate()}>
              Issue a new enrollment token
            </button>
          </div>
        </>
      )}
    </section>
  );
}
