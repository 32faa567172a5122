/**
 * A render's output as a stream that resolves once its first chunk is out, or rejects when the
 * render failed before one, so a template error still becomes an error response rather than a
 * cut transfer. Shared by the Node and Worker letter adapters.
 */
export async function streamFromFirstChunk(reader: ReadableStreamDefaultReader<Uint8Array>, rendered: Promise<unknown>): Promise<ReadableStream<Uint8Array>> {
  let first: Awaited<ReturnType<typeof reader.read>>;
  try {
    first = await reader.read();
  } catch (error) {
    await rendered;
    throw error;
  }
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (first.done) controller.close();
      else controller.enqueue(first.value);
    },
    async pull(controller) {
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
