/** The rejection an SDK call ends in, for asserting its name, status and code; fails if the call succeeds. */
export function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('AWS refuses this request, but the local stack accepted it');
    },
    (error: unknown) => error,
  );
}
