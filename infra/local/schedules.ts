/**
 * Schedules played locally, with a `rate(...)` expression and Lambda targets:
 * - EventBridge Scheduler (AWS::Scheduler::Schedule): the target gets its `Input` (JSON
 *   text), or `{}` without one;
 * - EventBridge rules (AWS::Events::Rule): each target gets a "Scheduled Event" (or its
 *   `Input`).
 * `cron(...)`/`at(...)` schedules are not timed locally; every schedule can be fired on demand.
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
 */
import { randomUUID } from 'node:crypto';
import type { CfnTemplate, Json } from './template.ts';
import { referencedLogicalId } from './template.ts';

export interface ScheduleTarget {
  readonly functionLogicalId: string;
  /** The payload to send; undefined: an EventBridge "Scheduled Event". */
  readonly input: string | undefined;
}

export interface ScheduleSpec {
  readonly logicalId: string;
  readonly type: 'AWS::Events::Rule' | 'AWS::Scheduler::Schedule';
  readonly expression: string;
  /** The period of a rate() schedule; undefined for cron() and at(). */
  readonly periodMs: number | undefined;
  readonly targets: readonly ScheduleTarget[];
  readonly enabled: boolean;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** `rate(5 minutes)` → 300000; anything else → undefined. */
export function ratePeriodMs(expression: string): number | undefined {
  const match = /^rate\(\s*(\d+)\s+([a-z]+)\s*\)$/i.exec(expression.trim());
  if (match === null) return undefined;
  const unit = UNIT_MS[(match[2] ?? '').toLowerCase()];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The template's schedules (EventBridge rules and Scheduler schedules) that invoke functions. */
export function scheduleSpecs(template: CfnTemplate): ScheduleSpec[] {
  const specs: ScheduleSpec[] = [];
  const isFunction = (id: string | undefined): id is string =>
    id !== undefined && template.Resources[id]?.Type === 'AWS::Lambda::Function';
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Events::Rule' && resource.Type !== 'AWS::Scheduler::Schedule')
      continue;
    const props = resource.Properties ?? {};
    const expression = props.ScheduleExpression;
    if (typeof expression !== 'string') continue;
    const rawTargets =
      resource.Type === 'AWS::Scheduler::Schedule'
        ? [props.Target]
        : Array.isArray(props.Targets)
          ? props.Targets
          : [];
    const targets: ScheduleTarget[] = [];
    for (const target of rawTargets) {
      if (!isObject(target)) continue;
      const functionLogicalId = referencedLogicalId(target.Arn);
      if (!isFunction(functionLogicalId)) continue;
      const input = typeof target.Input === 'string' ? target.Input : undefined;
      targets.push({
        functionLogicalId,
        input: resource.Type === 'AWS::Scheduler::Schedule' ? (input ?? '{}') : input,
      });
    }
    if (targets.length === 0) continue;
    specs.push({
      logicalId,
      type: resource.Type,
      expression,
      periodMs: ratePeriodMs(expression),
      targets,
      enabled: props.State !== 'DISABLED',
    });
  }
  return specs;
}

/** The event EventBridge sends a scheduled rule's targets. */
export function scheduledEvent(ruleArn: string, region: string, account: string): string {
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [ruleArn],
    detail: {},
  });
}
