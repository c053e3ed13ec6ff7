/**
 * Gzip for text of decimal numbers: result pages, and the client's request bodies.
 *
 * Such text is mostly digits in no order, with little for LZ77 to match: Huffman coding
 * alone (Z_HUFFMAN_ONLY) is both faster and smaller there. Measured on a chunk of the bench
 * (10,000 squares of integers in ±1,000,000, 125,448 bytes of JSON): level 4 gives 58,822
 * bytes in 2.3 ms, Huffman alone 56,077 bytes in 0.8 ms. Text that repeats itself (the same
 * values over and over) is another matter: LZ77 shrinks it many times over, Huffman alone
 * only to about a fifth. A sample of the text decides which it is.
 * @see https://www.zlib.net/manual.html#Advanced (deflateInit2: strategy)
 */
import { constants, gzipSync } from 'node:zlib';

/** The level of the LZ77 pass, for text that repeats itself. */
export const REPEATING_TEXT_GZIP_LEVEL = 4;

/** Bytes of the sample that decides: enough for a repeat to show, cheap to compress twice. */
const SAMPLE_BYTES = 8_192;

/**
 * LZ77 wins on the sample by at least this much: the text repeats itself enough that both are
 * made and the smaller kept. Measured: the bench's squares (integers in ±1,000,000) give 1.05
 * (LZ77 loses), `seq` near 10^8 0.91 and random 3-digit integers 0.92 on the sample, where
 * LZ77 then wins by 16% and 26% on a whole range.
 */
const REPEATING_RATIO = 0.95;

const HUFFMAN_ONLY = { strategy: constants.Z_HUFFMAN_ONLY } as const;
const MATCHING = { level: REPEATING_TEXT_GZIP_LEVEL } as const;

/** Whether LZ77 does clearly better than Huffman alone on the start of the text. */
function repeatsItself(text: Buffer): boolean {
  const sample = text.subarray(0, SAMPLE_BYTES);
  const matched = gzipSync(sample, MATCHING).length;
  return matched < REPEATING_RATIO * gzipSync(sample, HUFFMAN_ONLY).length;
}

/**
 * The gzip of text of numbers: Huffman coding alone, or LZ77 as well when a sample of the
 * text repeats itself (then the smaller of the two). Either is plain gzip (RFC 1952), which
 * any gunzip reads.
 * @param fitBytes where the result must fit (an item, a request body): a Huffman coding
 *   larger than that is compared with LZ77's too, since the text may repeat itself past the
 *   sample, and LZ77 might fit where Huffman alone does not
 */
export function gzipNumbersText(
  text: string | Buffer,
  fitBytes = Number.POSITIVE_INFINITY,
): Buffer {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const huffman = () => gzipSync(bytes, HUFFMAN_ONLY);
  const matched = () => gzipSync(bytes, MATCHING);
  if (repeatsItself(bytes)) {
    // A sample that is the whole text decides alone; past it, the text may not repeat.
    return bytes.length <= SAMPLE_BYTES ? matched() : smaller(matched(), huffman());
  }
  const coded = huffman();
  return coded.length <= fitBytes ? coded : smaller(coded, matched());
}

function smaller(a: Buffer, b: Buffer): Buffer {
  return b.length < a.length ? b : a;
}
