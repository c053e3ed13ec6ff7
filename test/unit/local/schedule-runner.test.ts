/** Playing the template's schedules: on demand, and what each target receives. */
import { describe, expect, it } from 'vitest';
import type { InvocationOutcome } from '#local/runtime/protocol.ts';
import { ScheduleRunner } from '#local/schedule-runner.ts';
import type { ScheduleSpec } from '#local/schedules.ts';

const rules: ScheduleSpec[] = [
  {
    logicalId: 'SweepSchedule',
    type: 'AWS::Scheduler::Schedule',
    expression: 'rate(5 minutes)',
    periodMs: 300_000,
    targets: [{ functionLogicalId: 'Sweeper', input: '{"sweep":true}' }],
    enabled: true,
  },
  {
    logicalId: 'TickRule',
    type: 'AWS::Events::Rule',
    expression: 'rate(1 minute)',
    periodMs: 60_000,
    targets: [{ functionLogicalId: 'Ticker', input: undefined }],
    enabled: true,
  },
];

function recordingRunner(): { runner: ScheduleRunner; payloads: Map<string, string[]> } {
  const payloads = new Map<string, string[]>();
  const runner = new ScheduleRunner(
    rules,
    (logicalId) =>
      logicalId === 'Missing'
        ? undefined
        : {
            invoke: (payload: string): Promise<InvocationOutcome> => {
              payloads.set(logicalId, [...(payloads.get(logicalId) ?? []), payload]);
              return Promise.resolve({ ok: true, payload: 'null' });
            },
          },
    () => undefined,
  );
  return { runner, payloads };
}

describe('Class: ScheduleRunner', () => {
  describe('Method: fire', () => {
    it('invokes the targets of the matching rules with their input', async () => {
      // Prepare
      const { runner, payloads } = recordingRunner();

      // Act
      await runner.fire('sweep');

      // Assess
      expect(payloads.get('Sweeper')).toEqual(['{"sweep":true}']);
      expect(payloads.has('Ticker')).toBe(false);
    });

    it('sends a Scheduled Event naming the rule to a target without input', async () => {
      // Prepare
      const { runner, payloads } = recordingRunner();

      // Act
      await runner.fire('TickRule');

      // Assess
      const [payload] = payloads.get('Ticker') ?? [];
      expect(JSON.parse(payload ?? '{}')).toMatchObject({
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        resources: ['arn:aws:events:us-east-1:000000000000:rule/TickRule'],
      });
    });

    it('throws when no rule matches', async () => {
      await expect(recordingRunner().runner.fire('nothing')).rejects.toThrow(
        "no scheduled rule matches 'nothing'",
      );
    });
  });

  it('returns the logical ids of the functions the schedules invoke', () => {
    expect(recordingRunner().runner.targetLogicalIds).toEqual(['Sweeper', 'Ticker']);
  });
});
