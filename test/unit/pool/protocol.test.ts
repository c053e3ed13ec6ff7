import { describe, expect, it } from 'vitest';
import { batchByChars, createFrame, FrameReader, frameHeader, sealFrame } from '#pool/protocol.ts';

interface Received {
  id: number;
  count: number;
  values: number[];
  ended: boolean;
}

function collect(): { reader: FrameReader; frames: Received[] } {
  const frames: Received[] = [];
  const reader = new FrameReader({
    start: (id, count) => frames.push({ id, count, values: [], ended: false }),
    values: (values, offset) => {
      const frame = frames.at(-1);
      if (frame === undefined) throw new Error('values before start');
      expect(offset).toBe(frame.values.length);
      frame.values.push(...values);
    },
    end: () => {
      const frame = frames.at(-1);
      if (frame !== undefined) frame.ended = true;
    },
  });
  return { reader, frames };
}

function frameBytes(id: number, values: number[]): Uint8Array {
  const frame = createFrame(id, values.length);
  frame.values.set(values);
  return sealFrame(frame, values.length);
}

describe('Class: FrameReader', () => {
  describe('Method: push', () => {
    it('reassembles a frame that arrives one byte at a time', () => {
      const { reader, frames } = collect();
      const bytes = frameBytes(7, [1.5, -0, 2 ** 53 - 1]);

      for (let index = 0; index < bytes.length; index++)
        reader.push(bytes.subarray(index, index + 1));

      expect(frames).toEqual([{ id: 7, count: 3, values: [1.5, -0, 2 ** 53 - 1], ended: true }]);
      expect(Object.is(frames[0]?.values[1], -0)).toBe(true);
    });

    it('reads several frames from one chunk at an unaligned offset', () => {
      const { reader, frames } = collect();
      const first = frameBytes(1, [1, 2]);
      const second = frameBytes(2, [3]);
      const buffer = new Uint8Array(3 + first.length + second.length);
      buffer.set(first, 3);
      buffer.set(second, 3 + first.length);

      reader.push(buffer.subarray(3));

      expect(frames.map(({ id, values, ended }) => ({ id, values, ended }))).toEqual([
        { id: 1, values: [1, 2], ended: true },
        { id: 2, values: [3], ended: true },
      ]);
    });

    it('ends a frame of no numbers at its header', () => {
      const { reader, frames } = collect();

      reader.push(frameHeader(9, 0));

      expect(frames).toEqual([{ id: 9, count: 0, values: [], ended: true }]);
    });

    it('stages a payload larger than its staging buffer when it is unaligned', () => {
      const { reader, frames } = collect();
      const values = Array.from({ length: 20_000 }, (_, i) => i / 3);
      const bytes = frameBytes(4, values);
      const shifted = new Uint8Array(bytes.length + 1);
      shifted.set(bytes, 1);

      reader.push(shifted.subarray(1, 5_001));
      reader.push(shifted.subarray(5_001));

      expect(frames[0]?.values).toEqual(values);
      expect(frames[0]?.ended).toBe(true);
    });
  });
});

describe('Function: batchByChars', () => {
  it('cuts strings into consecutive batches of at most maxChars characters', () => {
    expect(batchByChars(['aaa', 'bb', 'c', 'dddd'], 5)).toEqual([
      ['aaa', 'bb'],
      ['c', 'dddd'],
    ]);
  });

  it('gives a string longer than maxChars a batch of its own', () => {
    expect(batchByChars(['a', 'bbbbbbbb', 'c'], 3)).toEqual([['a'], ['bbbbbbbb'], ['c']]);
  });

  it('returns no batch for no strings', () => {
    expect(batchByChars([], 10)).toEqual([]);
  });
});
