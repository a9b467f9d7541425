import { status } from '@grpc/grpc-js';
import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  GatewayTimeoutException,
  HttpException,
  InternalServerErrorException,
  NotFoundException,
  NotImplementedException,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { InferenceError, ModelNotFoundError, SerializationError, ValidationError } from '../../lib/index.js';
import { toCallStatus } from '../../lib/core/errors/grpc-status.mapper.js';
import { describeClientShape, quoteClientText } from '../../lib/core/errors/client-text.js';

describe('status mapping', () => {
  it.each([
    [new BadRequestException('bad'), status.INVALID_ARGUMENT, 'bad'],
    [new UnauthorizedException('who'), status.UNAUTHENTICATED, 'who'],
    [new ForbiddenException('no'), status.PERMISSION_DENIED, 'no'],
    [new NotFoundException('gone'), status.NOT_FOUND, 'gone'],
    [new ConflictException('twice'), status.ALREADY_EXISTS, 'twice'],
    [new HttpException('slow down', 429), status.RESOURCE_EXHAUSTED, 'slow down'],
    [new NotImplementedException('later'), status.UNIMPLEMENTED, 'later'],
    [new ServiceUnavailableException('busy'), status.UNAVAILABLE, 'busy'],
    [new GatewayTimeoutException('late'), status.DEADLINE_EXCEEDED, 'late'],
    [new HttpException('teapot', 418), status.FAILED_PRECONDITION, 'teapot'],
  ])('maps %s by its HTTP status', (error, code, details) => {
    expect(toCallStatus(error)).toEqual({ code, details, unexpected: false });
  });

  it('joins the message list a ValidationPipe puts in a 400', () => {
    const error = new BadRequestException({
      message: ['text must be a string', 'n must be positive'],
      error: 'Bad Request',
    });
    expect(toCallStatus(error).details).toBe('text must be a string; n must be positive');
  });

  it('keeps the details of a 500 HttpException away from the client', () => {
    expect(toCallStatus(new InternalServerErrorException('db password'))).toEqual({
      code: status.INTERNAL,
      details: 'Internal server error',
      unexpected: true,
    });
  });

  it('passes RpcException({ code, message }) through as given', () => {
    expect(toCallStatus(new RpcException({ code: status.ABORTED, message: 'retry' }))).toEqual({
      code: status.ABORTED,
      details: 'retry',
      unexpected: false,
    });
  });

  it("passes a plain { code, message } error through, as Nest's gRPC transport does for its filters", () => {
    expect(toCallStatus({ code: status.ABORTED, message: 'teapot' })).toEqual({
      code: status.ABORTED,
      details: 'teapot',
      unexpected: false,
    });
    // Not a status: OK, an unknown code, or an Error that happens to carry a code.
    expect(toCallStatus({ code: status.OK, message: 'fine' })).toMatchObject({
      code: status.INTERNAL,
      unexpected: true,
    });
    expect(toCallStatus({ code: 99, message: 'odd' })).toMatchObject({ code: status.INTERNAL, unexpected: true });
    expect(toCallStatus(Object.assign(new Error('ENOENT'), { code: 2 }))).toMatchObject({
      code: status.INTERNAL,
      unexpected: true,
    });
  });

  it('answers a string RpcException as UNKNOWN with its text', () => {
    expect(toCallStatus(new RpcException('odd'))).toMatchObject({ code: status.UNKNOWN, details: 'odd' });
  });

  it('maps library errors by kind', () => {
    expect(toCallStatus(new ValidationError("Input 'x' is bad", 'x'))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: "Input 'x' is bad",
    });
    // A tensor a handler built wrongly is the server's fault: INTERNAL, details in the log only.
    expect(toCallStatus(new SerializationError('Shape [2] has 2 elements but the data has 3', 'float'))).toEqual({
      code: status.INTERNAL,
      details: 'Internal server error',
      unexpected: true,
    });
    expect(toCallStatus(new ModelNotFoundError('iris', '3'))).toMatchObject({
      code: status.NOT_FOUND,
      details: "Model 'iris' version '3' is not registered",
    });
    expect(toCallStatus(new InferenceError('boom', 'iris'))).toEqual({
      code: status.INTERNAL,
      details: 'Internal server error',
      unexpected: true,
    });
  });

  it('answers anything else INTERNAL with a generic message, flagged for the log', () => {
    expect(toCallStatus(new TypeError('x is undefined'))).toEqual({
      code: status.INTERNAL,
      details: 'Internal server error',
      unexpected: true,
    });
    expect(toCallStatus('a string')).toEqual({
      code: status.INTERNAL,
      details: 'Internal server error',
      unexpected: true,
    });
  });
});

describe('client text in status details', () => {
  it('quotes at most 128 characters of client input and says how much was left out', () => {
    expect(quoteClientText('f'.repeat(3_000_000))).toBe(`${'f'.repeat(128)}... (2999872 more characters)`);
    expect(quoteClientText('float')).toBe('float');
  });

  it('summarises long shapes', () => {
    expect(describeClientShape([1, 2, 3])).toBe('[1, 2, 3]');
    expect(describeClientShape(Array.from({ length: 1000 }, (_, i) => i))).toBe(
      '[0, 1, 2, 3, 4, 5, 6, 7, ... (1000 dimensions)]',
    );
  });

  it('never sends more than 1 KB of grpc-message, cutting on a character boundary', () => {
    const details = toCallStatus(new RpcException({ code: 3, message: 'é'.repeat(5000) })).details;
    expect(Buffer.byteLength(details)).toBeLessThanOrEqual(1024);
    expect(details.endsWith('... (truncated)')).toBe(true);
    expect(details).not.toContain('\uFFFD');
  });
});
