import { expect } from 'vitest';
import * as ng from '../../lib/index.js';

/** Checks that `reason` is a NodegradError with `code` and a message matching `message`. */
export function expectNodegradError(reason: unknown, code: ng.ErrorCode, message: RegExp): void {
  expect(reason).toBeInstanceOf(ng.NodegradError);
  expect((reason as ng.NodegradError).code).toBe(code);
  expect((reason as ng.NodegradError).message).toMatch(message);
}

/** The error `promise` rejects with (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected the call to reject'),
    (reason: unknown) => reason,
  );
}
