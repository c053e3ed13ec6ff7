import { describe, expect, it } from 'vitest';
import {
  type ChildEvents,
  type ChildExit,
  PoolChild,
  type SpawnOptions,
} from '#pool/child-handle.ts';
import { defaultChildScript } from '#pool/child-script.ts';
import { TaskTimeoutError } from '#pool/errors.ts';
import { packTask } from '#pool/merge.ts';
import { createFrame, type ParentMessage, sealFrame } from '#pool/protocol.ts';
import { Run, Task, type TaskLanes } from '#pool/task.ts';
import { fixture } from './helpers.ts';

/** A child with events that record what it reports, and promises for the milestones. */
function spawnChild(childScript: string | URL, startTimeoutMs = 10_000) {
  const failed: Error[] = [];
  const results: number[] = [];
  let markReady = () => {};
  let markExit: (exit: ChildExit) => void = () => {};
  let markAnswered = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const exit = new Promise<ChildExit>((resolve) => {
    markExit = resolve;
  });
  const answered = new Promise<void>((resolve) => {
    markAnswered = resolve;
  });
  const events: ChildEvents = {
    ready: () => markReady(),
    taskMessage: (child, task, message) => {
      if (message.type !== 'strings') task.reply = message;
      if (task.answered) {
        child.finishTask();
        markAnswered();
      }
    },
    frameValues: (_task, values) => results.push(...values),
    frameEnd: (child, task) => {
      if (task.answered) {
        child.finishTask();
        markAnswered();
      }
    },
    taskFailed: (_task, error) => failed.push(error),
    exited: (_child, exit) => markExit(exit),
  };
  const options: SpawnOptions = {
    childScript,
    execArgv: [],
    startTimeoutMs,
    readBuffer: new Uint8Array(256 * 1024),
    referenced: true,
  };
  const child = PoolChild.spawn(options, events);
  if (typeof child === 'string') throw new Error(child);
  return { child, ready, exit, answered, failed, results };
}

/** Posts values[0..n) to the child as one task, the way the pool does. */
function post(child: PoolChild, values: number[], timeoutMs = 10_000): Task {
  const task = new Task(
    new Run(
      values,
      1,
      () => {},
      () => {},
    ),
    0,
    values.length,
  );
  const frame = createFrame(1, values.length);
  const lanes = packTask(values, 0, values.length, frame.values) as TaskLanes;
  task.begin(1, lanes);
  const message: ParentMessage = {
    type: 'task',
    id: 1,
    floatCount: values.length,
    stringCount: 0,
    strings: [],
  };
  child.post(task, sealFrame(frame, lanes.floatCount), frame.buffer, [message], timeoutMs);
  return task;
}

describe('Class: PoolChild', () => {
  describe('Method: spawn', () => {
    it('is starting until its ready handshake, then idle', async () => {
      const { child, ready, exit } = spawnChild(defaultChildScript());
      expect(child.state).toBe('starting');

      await ready;

      expect(child.state).toBe('idle');
      child.stop(1_000);
      expect(child.state).toBe('stopping');
      await expect(exit).resolves.toMatchObject({
        code: 0,
        task: undefined,
        startFailure: undefined,
      });
      expect(child.state).toBe('exited');
    });

    it('reports a child that dies before its handshake as a start failure', async () => {
      const { child, exit } = spawnChild(fixture('exit-at-start-child.ts'));

      const { startFailure } = await exit;

      expect(startFailure).toBe(
        `child ${child.pid} failed to start: it exited with exit code 3 before its ready handshake`,
      );
    });

    it('kills a child that misses its handshake deadline and says why', async () => {
      const { exit } = spawnChild(fixture('never-ready-child.ts'), 200);

      await expect(exit).resolves.toMatchObject({
        signal: 'SIGKILL',
        startFailure: expect.stringMatching(/no ready handshake within 200 ms$/),
      });
    });
  });

  describe('Method: post', () => {
    it('is busy with its task until the task is answered, then idle', async () => {
      const { child, ready, answered, results, exit } = spawnChild(defaultChildScript());
      await ready;

      const task = post(child, [3, -4]);

      expect(child.state).toBe('busy');
      expect(child.task).toBe(task);
      await answered;
      expect(results).toEqual([9, 16]);
      expect(child.state).toBe('idle');
      expect(child.task).toBeUndefined();
      child.stop(1_000);
      await exit;
    });

    it('fails its task with TaskTimeoutError and kills itself past the deadline', async () => {
      const { child, ready, failed, exit } = spawnChild(fixture('hang-child.ts'));
      await ready;

      post(child, [-1], 100);
      const { signal, task } = await exit;

      expect(failed).toEqual([new TaskTimeoutError(100, child.pid)]);
      expect(signal).toBe('SIGKILL');
      expect(task).toBeUndefined();
    });

    it('hands back the task it was running when it dies', async () => {
      const { child, ready, exit } = spawnChild(fixture('hang-child.ts'));
      await ready;
      const posted = post(child, [-1]);

      process.kill(child.pid as number, 'SIGKILL');

      await expect(exit).resolves.toMatchObject({ signal: 'SIGKILL', task: posted });
    });
  });
});
