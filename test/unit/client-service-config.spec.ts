import { BlazeClient, BlazeRpcClientError } from '../../lib/index.js';

describe('BlazeClient.connect: addresses, load balancing and retry options', () => {
  it('refuses several host names with the headless-Service alternative', async () => {
    const failure = await BlazeClient.connect(['models-0:50051', 'models-1:50051']).catch((error) => error);
    expect(failure).toBeInstanceOf(BlazeRpcClientError);
    expect(failure.codeName).toBe('INVALID_ARGUMENT');
    expect(failure.details).toContain('dns:///models-headless:50051');
  });

  it('refuses an empty address list and a retry policy gRPC would not run', async () => {
    await expect(BlazeClient.connect([])).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT' });
    await expect(BlazeClient.connect('127.0.0.1:1', { retry: { maxAttempts: 9 } })).rejects.toMatchObject({
      codeName: 'INVALID_ARGUMENT',
      details: 'retry.maxAttempts must be an integer from 2 to 5, got 9',
    });
    await expect(BlazeClient.connect('127.0.0.1:1', { retry: { initialBackoffMs: 0 } })).rejects.toMatchObject({
      codeName: 'INVALID_ARGUMENT',
      details: 'retry.initialBackoffMs must be a positive number, got 0',
    });
  });
});
