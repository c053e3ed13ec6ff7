import { describe, expect, it } from 'vitest';
import { FairShareMeter } from '../../../functions/worker/fair-share.ts';

function manualClock() {
  const clock = { now: 0, read: () => clock.now };
  return clock;
}

describe('Class: FairShareMeter', () => {
  it('charges a record alone in flight its whole wall time', () => {
    const clock = manualClock();
    const meter = new FairShareMeter(clock.read);
    const share = meter.begin();
    clock.now = 120;
    expect(share.elapsed()).toBe(120);
    clock.now = 150;
    expect(share.end()).toBe(150);
  });

  it('splits each moment evenly among the records in flight', () => {
    const clock = manualClock();
    const meter = new FairShareMeter(clock.read);
    const first = meter.begin(); // alone 0..100: 100
    clock.now = 100;
    const second = meter.begin(); // together 100..300: 100 each
    clock.now = 300;
    expect(first.end()).toBe(200);
    clock.now = 400; // second alone 300..400: 100
    expect(second.end()).toBe(200);
    expect(meter.inFlight).toBe(0);
  });

  it('never adds up to more than the time any record was in flight', () => {
    const clock = manualClock();
    const meter = new FairShareMeter(clock.read);
    const shares = [meter.begin(), meter.begin(), meter.begin(), meter.begin(), meter.begin()];
    clock.now = 1_000;
    const total = shares.reduce((sum, share) => sum + share.end(), 0);
    expect(total).toBeCloseTo(1_000, 9);
    expect(shares.map((share) => share.end())).toEqual([200, 200, 200, 200, 200]);
  });

  it('does not count idle time between records, and ending twice changes nothing', () => {
    const clock = manualClock();
    const meter = new FairShareMeter(clock.read);
    const first = meter.begin();
    clock.now = 50;
    expect(first.end()).toBe(50);
    clock.now = 500; // idle: nobody is charged
    const second = meter.begin();
    clock.now = 520;
    expect(second.end()).toBe(20);
    clock.now = 900;
    expect(first.end()).toBe(50);
    expect(first.elapsed()).toBe(50);
  });

  it('ignores a clock that goes backwards', () => {
    const clock = manualClock();
    clock.now = 100;
    const meter = new FairShareMeter(clock.read);
    const share = meter.begin();
    clock.now = 90;
    expect(share.elapsed()).toBe(0);
    clock.now = 110;
    expect(share.end()).toBe(10);
  });
});
