import { Type } from '@sinclair/typebox';
import { StringEnum } from '@vigil/protocol';
import type { App } from '../http/server.js';
import type { CaInfo } from './ca-info.js';

/** The CA certificate, public: agents pin it, and the console shows it for enrollment. */
export function tlsRoutes(app: App, deps: { ca: CaInfo }): void {
  app.get(
    '/api/v1/tls/ca',
    {
      config: { access: 'anonymous' },
      schema: {
        tags: ['agents'],
        summary:
          'The CA certificate that agents pin, with its SHA-256 fingerprint (the form `vigil-agent enroll --ca-fingerprint` takes) and validity; `format=pem` answers the certificate alone as `application/x-pem-file`.',
        querystring: Type.Object({ format: Type.Optional(StringEnum(['json', 'pem'])) }),
        response: {
          200: Type.Object(
            {
              certificate: Type.String({ description: 'PEM.' }),
              fingerprint_sha256: Type.String({ description: 'Colon hex.' }),
              subject: Type.String(),
              not_before: Type.String({ format: 'date-time' }),
              not_after: Type.String({ format: 'date-time' }),
            },
            { title: 'CaCertificate' },
          ),
        },
      },
    },
    async (request, reply) => {
      if (request.query.format === 'pem') {
        void reply
          .type('application/x-pem-file')
          .header('content-disposition', 'attachment; filename="vigil-ca.pem"');
        return deps.ca.certificate as unknown as CaInfo;
      }
      return deps.ca;
    },
  );
}
