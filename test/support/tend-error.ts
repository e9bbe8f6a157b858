import { TendError } from '../../src/errors/index.js';

/** The TendError `promise` rejects with; resolving, or rejecting with anything else, fails the test. */
export async function rejectionOf(promise: Promise<unknown>): Promise<TendError> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof TendError)) throw new Error(`expected a TendError, got ${String(error)}`);
  return error;
}
