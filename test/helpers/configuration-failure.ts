import { ConfigurationError } from '../../lib/core/errors/configuration.error.js';

/** The message `make` fails with, expected to be a ConfigurationError: what a user reads at startup. */
export function configurationFailure(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('no error');
}
