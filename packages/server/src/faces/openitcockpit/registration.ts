import type { EnrollmentService } from '../../agents/enrollment.js';
import type { Origin } from '../../agents/model.js';

/** Outcome of an openITCOCKPIT registration, for the face to render. */
export type OitcRegistration =
  | { outcome: 'created'; agentuuid: string; password: string }
  | { outcome: 'ok'; agentuuid: string; password: string }
  | { outcome: 'already_registered' }
  | { outcome: 'not_found' };

/**
 * openITCOCKPIT `register_agent.json`: a new uuid with an empty password registers (pending
 * unless an auto-approve rule matches); a known uuid with its password checks the state. A uuid
 * of an agent that is no openITCOCKPIT push agent is unknown here.
 */
export async function registerOitc(
  enrollment: Pick<EnrollmentService, 'passwordStanding' | 'registerWithPassword'>,
  req: { agentuuid: string; password: string; hostname?: string; ipaddress?: string },
  origin: Origin,
): Promise<OitcRegistration> {
  const standing = await enrollment.passwordStanding(req.agentuuid, req.password);
  if (standing === 'other_kind') return { outcome: 'not_found' };
  if (standing !== 'unknown') {
    if (req.password === '') return { outcome: 'already_registered' };
    return standing === 'valid'
      ? { outcome: 'ok', agentuuid: req.agentuuid, password: req.password }
      : { outcome: 'not_found' };
  }
  if (req.password !== '') return { outcome: 'not_found' };
  const r = await enrollment.registerWithPassword(
    { id: req.agentuuid, hostname: req.hostname, ipaddress: req.ipaddress },
    origin,
  );
  return r.registered
    ? { outcome: 'created', agentuuid: req.agentuuid, password: r.password }
    : { outcome: 'already_registered' };
}
