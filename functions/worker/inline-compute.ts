/**
 * The in-process chunk computer: squares a chunk on the handler's own thread. It stands in
 * for the child-process pool (`compute.ts`) behind the same ChunkComputer interface.
 */
import { type NumberInput, type SquareResult, squareNumber } from '../commons/numbers.ts';

/** Squares a chunk: results[i] is the square of numbers[i]. Same shape as compute.ts's. */
export type ChunkComputer = (numbers: NumberInput[]) => Promise<SquareResult[]>;

export const computeChunkInline: ChunkComputer = async (numbers) => {
  const results: SquareResult[] = new Array(numbers.length);
  for (let index = 0; index < numbers.length; index++) {
    results[index] = squareNumber(numbers[index] as NumberInput);
  }
  return results;
};
