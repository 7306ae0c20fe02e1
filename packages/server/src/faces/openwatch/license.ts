import { Type } from '@sinclair/typebox';
import { VigilError } from '../../errors.js';
import type { App } from '../../http/server.js';

// OpenWatch gates premium features on a license tier and answers 402 without it. Vigil has no
// paid tier: every feature is there for everyone, so it reports the highest tier, active, with
// every feature and no expiry, and clients that check the tier before they call work as they
// should. Nothing in Vigil ever answers 402.

/** Every feature OpenWatch clients may ask about, as its license lists them. */
export const LICENSE_FEATURES = [
  'activity',
  'agents',
  'alerts',
  'audit',
  'compliance',
  'connectivity',
  'deployments',
  'discovery',
  'fleet',
  'intelligence',
  'logs',
  'mfa',
  'notifications',
  'oauth',
  'remediation',
  'reporting',
  'rbac',
  'sso',
  'telemetry',
] as const;

const MESSAGE = 'Vigil has no paid tier: every feature is available without a license.';
const VERIFY_MESSAGE =
  'Vigil has no paid tier: every feature is available without a license; nothing was installed.';

const Features = Type.Array(Type.String(), { description: 'Every feature: all are available.' });

/** The license as `GET /api/v1/license` answers it. */
export function licenseInfo() {
  return {
    tier: 'enterprise' as const,
    status: 'active' as const,
    edition: 'vigil' as const,
    features: [...LICENSE_FEATURES],
    expires_at: null,
    seats: null,
    licensee: null,
    message: MESSAGE,
  };
}

/**
 * The answer of a license verification (a dry run): any non-empty license text is taken as
 * valid, since there is nothing it could unlock; nothing is installed and nothing is audited.
 * @throws VigilError bad_data (`validation_failed`) when neither `license`, `token` nor `jwt` is a
 *   non-empty string.
 */
export function verifyLicense(body: { license?: unknown; token?: unknown; jwt?: unknown }) {
  const text = [body.license, body.token, body.jwt].find(
    (v): v is string => typeof v === 'string' && v.trim() !== '',
  );
  if (text === undefined)
    throw new VigilError('bad_data', 'license: a non-empty license text is required', {
      code: 'validation_failed',
    });
  return {
    valid: true as const,
    installed: false as const,
    tier: 'enterprise' as const,
    status: 'active' as const,
    features: [...LICENSE_FEATURES],
    expires_at: null,
    message: VERIFY_MESSAGE,
  };
}

/** OpenWatch's license endpoints: every feature, always. */
export function licenseRoutes(app: App): void {
  const tags = ['license'];
  app.get(
    '/api/v1/license',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary:
          'The license (OpenWatch): Vigil has no paid tier, so the tier is `enterprise`, active, with every feature and no expiry.',
        response: {
          200: Type.Object(
            {
              tier: Type.Literal('enterprise'),
              status: Type.Literal('active'),
              edition: Type.Literal('vigil'),
              features: Features,
              expires_at: Type.Null(),
              seats: Type.Null(),
              licensee: Type.Null(),
              message: Type.String(),
            },
            { title: 'License' },
          ),
        },
      },
    },
    async () => licenseInfo(),
  );
  app.post(
    '/api/v1/admin/license::verify',
    {
      config: { access: 'system:write' },
      schema: {
        tags,
        summary:
          'Verify a license without installing it (OpenWatch, a dry run): any non-empty text is valid, as there is nothing it could unlock; nothing is installed or audited. 400 without a license text.',
        body: Type.Object(
          {
            license: Type.Optional(Type.String({ maxLength: 65536 })),
            token: Type.Optional(Type.String({ maxLength: 65536 })),
            jwt: Type.Optional(Type.String({ maxLength: 65536 })),
          },
          { description: 'The license text as `license` (or `token`, or `jwt`).' },
        ),
        response: {
          200: Type.Object(
            {
              valid: Type.Literal(true),
              installed: Type.Literal(false),
              tier: Type.Literal('enterprise'),
              status: Type.Literal('active'),
              features: Features,
              expires_at: Type.Null(),
              message: Type.String(),
            },
            { title: 'LicenseVerification' },
          ),
        },
      },
    },
    async (request) => verifyLicense(request.body),
  );
}
