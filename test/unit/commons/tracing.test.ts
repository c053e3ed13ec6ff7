import { afterEach, describe, expect, it, vi } from 'vitest';
import { tracer } from '#commons/powertools.ts';
import { withSubsegment } from '#commons/tracing.ts';

/** A segment that records what is done to the subsegments made from it. */
function fakeSegment() {
  const subsegment = {
    addAnnotation: vi.fn(),
    addError: vi.fn(),
    close: vi.fn(),
  };
  const segment = { addNewSubsegment: vi.fn(() => subsegment) };
  vi.spyOn(tracer, 'getSegment').mockReturnValue(
    segment as unknown as ReturnType<typeof tracer.getSegment>,
  );
  return { segment, subsegment };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Function: withSubsegment', () => {
  it('wraps the work in an annotated subsegment, closed after it, and returns its value', async () => {
    const { segment, subsegment } = fakeSegment();

    const value = await withSubsegment(
      '### compute chunk',
      { jobId: 'j', chunkIndex: 3 },
      async () => {
        expect(subsegment.close).not.toHaveBeenCalled();
        return 42;
      },
    );

    expect(value).toBe(42);
    expect(segment.addNewSubsegment).toHaveBeenCalledWith('### compute chunk');
    expect(subsegment.addAnnotation.mock.calls).toEqual([
      ['jobId', 'j'],
      ['chunkIndex', 3],
    ]);
    expect(subsegment.close).toHaveBeenCalledTimes(1);
  });

  it('records the error on the subsegment, closes it and rethrows', async () => {
    const { subsegment } = fakeSegment();
    const failure = new Error('boom');

    await expect(withSubsegment('x', {}, async () => Promise.reject(failure))).rejects.toBe(
      failure,
    );

    expect(subsegment.addError).toHaveBeenCalledWith(failure);
    expect(subsegment.close).toHaveBeenCalledTimes(1);
  });

  it('runs the work when there is no segment (not in Lambda)', async () => {
    vi.spyOn(tracer, 'getSegment').mockReturnValue(undefined);
    expect(await withSubsegment('x', { a: 1 }, async () => 'done')).toBe('done');
  });
});
