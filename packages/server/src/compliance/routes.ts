import { Type } from '@sinclair/typebox';
import {
  CompliancePlatform,
  ComplianceReference,
  ComplianceSeverity,
  ComplianceStatus,
} from '@vigil/protocol';
import { contextOf } from '../http/context.js';
import type { App } from '../http/server.js';
import { COMPLIANCE_ALERT_LEVELS } from '../system/settings.js';
import type { ComplianceService } from './service.js';

const Time = Type.String({ format: 'date-time' });
const NTime = Type.Union([Time, Type.Null()]);
const NString = Type.Union([Type.String(), Type.Null()]);

const RuleItem = Type.Object(
  {
    pack: Type.String(),
    pack_version: Type.String(),
    id: Type.String(),
    title: Type.String(),
    severity: ComplianceSeverity,
    rationale: Type.String(),
    remediation: Type.String(),
    references: Type.Array(ComplianceReference),
    platforms: Type.Array(CompliancePlatform),
    failing_hosts: Type.Integer({ description: 'Live hosts on which the rule fails now.' }),
    passing_hosts: Type.Integer({ description: 'Live hosts on which the rule passes now.' }),
  },
  { title: 'ComplianceRuleItem' },
);
const PackItem = Type.Object(
  {
    id: Type.String(),
    version: Type.String(),
    title: Type.String(),
    description: Type.String(),
    rules: Type.Integer({ description: 'How many rules the pack has.' }),
  },
  { title: 'CompliancePackItem' },
);
const Summary = Type.Object(
  {
    pass: Type.Integer(),
    fail: Type.Integer(),
    error: Type.Integer(),
    not_applicable: Type.Integer(),
    score: Type.Union([Type.Number(), Type.Null()], {
      description: 'pass / (pass + fail); null when no rule passes or fails.',
    }),
  },
  { title: 'ComplianceSummary' },
);
const HostCompliance = Type.Object(
  {
    host_id: Type.String(),
    packs: Type.Array(Type.Object({ id: Type.String(), version: Type.String() }), {
      description: "The packs assigned to the host (its configuration's `compliance_packs` var).",
    }),
    unknown_packs: Type.Array(Type.String(), {
      description: 'Pack ids the var names that no loaded pack has.',
    }),
    evaluated_at: Type.Union([Time, Type.Null()], {
      description: 'The newest evaluation its agent reported; null before the first.',
    }),
    summary: Summary,
    rules: Type.Array(
      Type.Object({
        pack: Type.String(),
        id: Type.String(),
        title: Type.String(),
        severity: ComplianceSeverity,
        status: Type.Union([ComplianceStatus, Type.Null()], {
          description: 'Null until the host reported the rule.',
        }),
        detail: NString,
        since: NTime,
        rationale: Type.String(),
        remediation: Type.String(),
        references: Type.Array(ComplianceReference),
      }),
    ),
    changes: Type.Array(
      Type.Object({
        pack: Type.String(),
        rule_id: Type.String(),
        title: Type.String(),
        from: ComplianceStatus,
        to: ComplianceStatus,
        at: Time,
      }),
      { description: 'The 50 newest status changes, newest first.' },
    ),
  },
  { title: 'HostCompliance' },
);
const Config = Type.Object(
  {
    interval_seconds: Type.Integer({
      description: "300 to 86400: between two evaluations of a host's packs by its agent.",
    }),
    alert_min_severity: Type.Union(
      COMPLIANCE_ALERT_LEVELS.map((l) => Type.Literal(l)),
      {
        description:
          'A failing rule of this severity or worse raises an alert (`none`: no rule does).',
      },
    ),
  },
  { title: 'ComplianceConfig' },
);

/**
 * Compliance's routes: the rules of the loaded packs (`/api/v1/compliance/rules`), a host's
 * compliance (`/api/v1/hosts/{id}/compliance`) and the settings
 * (`/api/v1/system/compliance/config`).
 */
export function complianceRoutes(app: App, deps: { compliance: ComplianceService }): void {
  const { compliance } = deps;
  app.get(
    '/api/v1/compliance/rules',
    {
      config: { access: 'compliance:read' },
      schema: {
        tags: ['compliance'],
        summary:
          'The rules of the loaded compliance packs (of one pack, of one severity), with how many live hosts fail and pass each.',
        querystring: Type.Object(
          {
            pack: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            severity: Type.Optional(ComplianceSeverity),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { rules: Type.Array(RuleItem), packs: Type.Array(PackItem) },
            { title: 'ComplianceRules' },
          ),
        },
      },
    },
    async (request) => compliance.rules(request.query),
  );
  app.get(
    '/api/v1/hosts/:id/compliance',
    {
      config: { access: 'compliance:read' },
      schema: {
        tags: ['compliance'],
        summary:
          "A host's compliance: its assigned packs, each rule with its state, rationale and remediation, and its newest changes; 404 for an unknown host.",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: HostCompliance },
      },
    },
    async (request) => compliance.host(request.params.id),
  );
  app.get(
    '/api/v1/system/compliance/config',
    {
      config: { access: 'system:read' },
      schema: {
        tags: ['system'],
        summary: "Compliance evaluation's settings.",
        response: { 200: Config },
      },
    },
    async () => compliance.config(),
  );
  app.put(
    '/api/v1/system/compliance/config',
    {
      config: { access: 'system:write' },
      schema: {
        tags: ['system'],
        summary:
          "Change compliance evaluation's settings (fields not given keep their values); a bad value is 400 naming its field.",
        body: Type.Object(
          {
            interval_seconds: Type.Optional(Type.Integer()),
            alert_min_severity: Type.Optional(
              Type.Union(COMPLIANCE_ALERT_LEVELS.map((l) => Type.Literal(l))),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Config },
      },
    },
    async (request) => compliance.updateConfig(contextOf(request), request.body),
  );
}
