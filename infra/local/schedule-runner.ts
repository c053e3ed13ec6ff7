/**
 * Plays the template's schedules (schedules.ts reads them): a timer per enabled rate()
 * schedule in the `timed` mode, and `fire()` on demand, each target invoked with its input
 * or an EventBridge "Scheduled Event".
 */
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './emulators/common.ts';
import type { LocalFunction } from './runtime/function-host.ts';
import type { InvocationOutcome } from './runtime/protocol.ts';
import { type ScheduleSpec, scheduledEvent } from './schedules.ts';

/** What an invocation of a function that does not run locally answers. */
export function notLoaded(errorMessage: string): InvocationOutcome {
  return { ok: false, error: { errorType: 'ResourceNotFound', errorMessage, trace: [] } };
}

export class ScheduleRunner {
  readonly rules: readonly ScheduleSpec[];
  readonly #functionOf: (logicalId: string) => Pick<LocalFunction, 'invoke'> | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(
    rules: readonly ScheduleSpec[],
    functionOf: (logicalId: string) => Pick<LocalFunction, 'invoke'> | undefined,
    onError: (error: unknown) => void,
  ) {
    this.rules = rules;
    this.#functionOf = functionOf;
    this.#onError = onError;
  }

  /** Logical ids of the functions the schedules invoke. */
  get targetLogicalIds(): string[] {
    return this.rules.flatMap((rule) => rule.targets.map((target) => target.functionLogicalId));
  }

  /** Invokes every enabled rate() schedule's targets each period, as EventBridge does. */
  start(): void {
    for (const rule of this.rules) {
      if (!rule.enabled || rule.periodMs === undefined) continue;
      const timer = setInterval(() => {
        this.fireRule(rule).catch(this.#onError);
      }, rule.periodMs);
      timer.unref();
      this.#timers.push(timer);
    }
  }

  stop(): void {
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
  }

  /** Fires the rules whose logical id contains `selector` now; returns each outcome. */
  async fire(selector: string): Promise<InvocationOutcome[]> {
    const rules = this.rules.filter((rule) =>
      rule.logicalId.toLowerCase().includes(selector.toLowerCase()),
    );
    if (rules.length === 0) throw new Error(`no scheduled rule matches '${selector}'`);
    return (await Promise.all(rules.map((rule) => this.fireRule(rule)))).flat();
  }

  fireRule(rule: ScheduleSpec): Promise<InvocationOutcome[]> {
    const service = rule.type === 'AWS::Scheduler::Schedule' ? 'scheduler' : 'events';
    const kind = rule.type === 'AWS::Scheduler::Schedule' ? 'schedule/default' : 'rule';
    const ruleArn = `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${kind}/${rule.logicalId}`;
    return Promise.all(
      rule.targets.map((target) => {
        const fn = this.#functionOf(target.functionLogicalId);
        if (fn === undefined) {
          return Promise.resolve(notLoaded(`${target.functionLogicalId} is not loaded`));
        }
        return fn.invoke(target.input ?? scheduledEvent(ruleArn, LOCAL_REGION, LOCAL_ACCOUNT_ID));
      }),
    );
  }
}
