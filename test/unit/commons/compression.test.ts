import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gzipNumbersText, REPEATING_TEXT_GZIP_LEVEL } from '#commons/compression.ts';
import { seededRandom } from '#local/seeded-random.ts';

/** The squares of integers in ±1,000,000 as JSON, as a chunk of the bench holds them. */
function randomSquaresJson(count: number): string {
  const next = seededRandom(7);
  const squares = Array.from({ length: count }, () => (Math.floor(next() * 2_000_001) - 1e6) ** 2);
  return JSON.stringify(squares);
}

describe('Function: gzipNumbersText', () => {
  it('codes digits in no order with Huffman alone: smaller than LZ77 level 4', () => {
    const json = randomSquaresJson(10_000);
    const packed = gzipNumbersText(json);
    expect(gunzipSync(packed).toString('utf8')).toBe(json);
    expect(packed).toEqual(gzipSync(json, { strategy: constants.Z_HUFFMAN_ONLY }));
    expect(packed.length).toBeLessThan(gzipSync(json, { level: REPEATING_TEXT_GZIP_LEVEL }).length);
  });

  it('keeps LZ77 for text that repeats itself, many times smaller than Huffman alone', () => {
    // A range of lines like `.1`: the same square over and over.
    const json = `[${Array.from({ length: 100_000 }, () => '0.010000000000000002').join(',')}]`;
    const packed = gzipNumbersText(json);
    expect(gunzipSync(packed).toString('utf8')).toBe(json);
    const huffman = gzipSync(json, { strategy: constants.Z_HUFFMAN_ONLY }).length;
    expect(packed.length * 20).toBeLessThan(huffman);
  });

  it('takes Huffman alone when only the sampled start repeats, if it is the smaller', () => {
    const json = `[${'0,'.repeat(10_000)}${randomSquaresJson(20_000).slice(1)}`;
    const packed = gzipNumbersText(Buffer.from(json));
    expect(gunzipSync(packed).toString('utf8')).toBe(json);
    const huffman = gzipSync(json, { strategy: constants.Z_HUFFMAN_ONLY }).length;
    const matched = gzipSync(json, { level: REPEATING_TEXT_GZIP_LEVEL }).length;
    expect(packed.length).toBe(Math.min(huffman, matched));
  });

  it('compares LZ77 too when Huffman alone does not fit, and the text repeats past the sample', () => {
    // Digits in no order for the sampled start, then one square over and over: Huffman alone
    // codes the repeats at ~3 bits a character, LZ77 almost to nothing.
    const json = `${randomSquaresJson(2_000).slice(0, -1)},${'123456787654321,'.repeat(50_000)}0]`;
    const huffman = gzipSync(json, { strategy: constants.Z_HUFFMAN_ONLY }).length;
    const fit = Math.floor(huffman / 2);

    const packed = gzipNumbersText(json, fit);

    expect(gunzipSync(packed).toString('utf8')).toBe(json);
    expect(packed.length).toBeLessThanOrEqual(fit);
    // Without a bound to fit, the sample alone decides: Huffman.
    expect(gzipNumbersText(json).length).toBe(huffman);
  });

  it('keeps LZ77 for the squares of consecutive integers, where it wins on the whole', () => {
    // Prepare: squares of 100,000,000 onwards, as `seq` near 10^8 gives them.
    const squares = Array.from({ length: 10_000 }, (_, index) => String((1e8 + index) ** 2));
    const json = `[${squares.join(',')}]`;
    const matched = gzipSync(json, { level: REPEATING_TEXT_GZIP_LEVEL }).length;
    const huffman = gzipSync(json, { strategy: constants.Z_HUFFMAN_ONLY }).length;

    // Act
    const packed = gzipNumbersText(json);

    // Assess
    expect(matched).toBeLessThan(huffman);
    expect(packed.length).toBe(matched);
    expect(gunzipSync(packed).toString('utf8')).toBe(json);
  });

  it('round-trips short and empty text', () => {
    for (const text of ['', '[]', '[1,4,9]', '["81129638414606663681390495662081"]']) {
      expect(gunzipSync(gzipNumbersText(text)).toString('utf8')).toBe(text);
    }
  });
});
