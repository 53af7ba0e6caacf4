// Streaming calls sometimes need their first message before deciding anything (which resource a
// call is for); this reads it without losing it.

/** Reads the first message of a stream and gives back a stream that still starts with it. */
export async function peekFirst<T>(messages: AsyncIterable<T>): Promise<{ first: T | undefined; all: AsyncIterable<T> }> {
  const it = messages[Symbol.asyncIterator]();
  const head = await it.next();
  async function* all(): AsyncGenerator<T> {
    if (head.done) return;
    yield head.value;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { first: head.done ? undefined : head.value, all: all() };
}
