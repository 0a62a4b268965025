/**
 * What a person reads for an error the core throws: the words blocks/errors.ts gives its problem
 * code (err.message is only the code and its parameters). Core tests assert on these, so their
 * expected text stays the text users read.
 */
import { errorText } from '../../blocks/errors';
import { JitError } from '../../src/domain/errors';

/** The words of a thrown domain error (the message of anything else). */
export function wordsOf(err: unknown): string {
  if (err instanceof JitError) return errorText(err);
  return err instanceof Error ? err.message : String(err);
}

/** The words of what `fn` throws; fails the test when it does not throw. */
export function thrownWords(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return wordsOf(err);
  }
  throw new Error('expected a throw');
}

/** The words of what `promise` rejects with; fails the test when it resolves. */
export async function rejectedWords(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => wordsOf(err),
  );
}
