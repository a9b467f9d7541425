import { status as GrpcStatus } from '@grpc/grpc-js';
import { from, interval, map, take } from 'rxjs';
import { observableAsIterable, openStream } from '../../lib/pipeline/stream-source.js';

async function drain(source: AsyncIterator<unknown>): Promise<unknown[]> {
  const values: unknown[] = [];
  for (let next = await source.next(); !next.done; next = await source.next()) values.push(next.value);
  return values;
}

describe('a streaming model’s Observable, opened with a bound on results ahead of the reader', () => {
  it('yields every result while the reader keeps up', async () => {
    expect(await drain(openStream(from([1, 2, 3]), 4)!)).toEqual([1, 2, 3]);
    const ticks = interval(1).pipe(
      take(20),
      map((i) => i * 2),
    );
    expect(await drain(openStream(ticks, 2)!)).toHaveLength(20);
  });

  it('ends with RESOURCE_EXHAUSTED naming the option once it runs further ahead, even if it then completes', async () => {
    const source = openStream(from(Array.from({ length: 10 }, (_, i) => i)), 4)!;
    await expect(drain(source)).rejects.toMatchObject({
      code: GrpcStatus.RESOURCE_EXHAUSTED,
      message: "The model's Observable ran more than 4 results ahead of the client (limits.maxBufferedResults)",
    });
  });

  it('takes the server’s bound when it travels as an AsyncIterable through Nest', async () => {
    const wrapped = observableAsIterable(from([1, 2, 3, 4, 5]));
    await expect(drain(openStream(wrapped, 2)!)).rejects.toMatchObject({ code: GrpcStatus.RESOURCE_EXHAUSTED });
    expect(await drain(openStream(observableAsIterable(from([1, 2, 3, 4, 5])), 8)!)).toEqual([1, 2, 3, 4, 5]);
  });
});
