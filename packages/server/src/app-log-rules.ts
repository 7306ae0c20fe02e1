import type { Logger } from 'pino';
import { createLogRuleEvaluator, type LogCountQuery } from './alerts/evaluate/logs.js';
import type { AlertSink } from './alerts/model.js';
import type { RuleParts } from './app-rules.js';
import type { EventBus } from './events/bus.js';
import { LOGS_TOPIC, type LogsEvent } from './events/types.js';
import type { LogFilter } from './logs/model.js';
import { messageMatcher, parseLogQuery } from './logs/query-language.js';
import type { LogService } from './logs/service.js';

/** A log rule's count query as the log service's filter. */
function filterOf(q: LogCountQuery): LogFilter {
  const f: LogFilter = { from: q.from, to: q.to };
  if (q.host_id !== undefined) f.host_id = q.host_id;
  if (q.source !== undefined) f.source = q.source;
  if (q.source_name !== undefined) f.source_name = q.source_name;
  if (q.levels !== undefined) f.levels = q.levels;
  if (q.q !== undefined) {
    const terms = parseLogQuery(q.q);
    if (terms.length > 0) f.terms = terms;
  }
  return f;
}

/**
 * Composes the `log_count` alert rules for app.ts: their evaluator, on the rules and hosts of
 * the rule side, counting through the log service, reporting to the alert lifecycle's `sink`,
 * subscribed to stored log lines (`LOGS_TOPIC`). Its `job` is a cluster job (every 30 s).
 */
export function composeLogRules(deps: {
  rules: RuleParts;
  sink: AlertSink;
  logs: Pick<LogService, 'count'>;
  bus: EventBus;
  now: () => number;
  logger: Logger;
}) {
  const evaluator = createLogRuleEvaluator({
    rules: deps.rules.rules,
    sink: deps.sink,
    hosts: deps.rules.ruleHosts,
    overrides: deps.rules.ruleHosts.overrides,
    logs: {
      count: (q, cap) => deps.logs.count(filterOf(q), cap),
      textMatcher: (q) => messageMatcher(parseLogQuery(q)),
    },
    now: deps.now,
    log: (err, what) => deps.logger.warn({ err }, what),
  });
  deps.bus.subscribe<LogsEvent>(LOGS_TOPIC, (e) => evaluator.onLogs(e));
  return { evaluator };
}

/** The log rules' parts, as composeLogRules builds them. */
export type LogRuleParts = ReturnType<typeof composeLogRules>;
