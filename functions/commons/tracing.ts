/**
 * X-Ray subsegments around a unit of work (a chunk's compute, its hand-off), annotated with
 * the job and chunk so traces can be searched by them.
 *
 * The subsegment is attached to the current segment but never made current itself: records
 * of a batch run concurrently, and switching the current segment from one of them would
 * re-parent the others' calls. AWS SDK calls inside `work` stay on the handler's segment.
 * @see https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-annotations
 */
import { tracer } from './powertools.ts';

export type Annotations = Readonly<Record<string, string | number | boolean>>;

export async function withSubsegment<T>(
  name: string,
  annotations: Annotations,
  work: () => Promise<T>,
): Promise<T> {
  const subsegment = tracer.getSegment()?.addNewSubsegment(name);
  for (const [key, value] of Object.entries(annotations)) subsegment?.addAnnotation(key, value);
  try {
    return await work();
  } catch (error) {
    subsegment?.addError(error instanceof Error ? error : String(error));
    throw error;
  } finally {
    subsegment?.close();
  }
}
