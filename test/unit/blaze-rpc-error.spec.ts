import { Metadata, status } from '@grpc/grpc-js';
import { BadRequestException, InternalServerErrorException } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import {
  BlazeRpcError,
  CallStatusError,
  ConfigurationError,
  InferenceError,
  ModelNotFoundError,
  SerializationError,
  ValidationError,
} from '../../lib/index.js';
import { BlazeRpcClientError, OipStreamError } from '../../lib/client/index.js';
import { INTERNAL_MESSAGE, toCallStatus } from '../../lib/core/errors/grpc-status.mapper.js';

describe('BlazeRpcError', () => {
  it('keeps the message, code, details, metadata and cause it is given', () => {
    const cause = new Error('disk');
    const metadata = new Metadata();
    const error = new BlazeRpcError('no room', { code: status.RESOURCE_EXHAUSTED, details: 'full', metadata, cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'BlazeRpcError', message: 'no room', code: status.RESOURCE_EXHAUSTED });
    expect(error.details).toBe('full');
    expect(error.metadata).toBe(metadata);
    expect(error.cause).toBe(cause);
    expect(new BlazeRpcError('plain', { metadata: { retry: 'later' } }).metadata).toEqual({ retry: 'later' });
  });

  it('still takes the options of before: a cause and a code', () => {
    const error = new BlazeRpcError('boom', { cause: 'why', code: status.UNAVAILABLE });
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.cause).toBe('why');
    expect(error.details).toBeUndefined();
    expect(new BlazeRpcError('bare').code).toBeUndefined();
  });

  describe('from()', () => {
    it('returns a BlazeRpcError as it is', () => {
      for (const error of [
        new ValidationError('bad'),
        new CallStatusError(status.CANCELLED, 'Cancelled'),
        new BlazeRpcClientError(status.NOT_FOUND, 'gone'),
      ]) {
        expect(BlazeRpcError.from(error)).toBe(error);
      }
    });

    it('wraps an RpcException with its status', () => {
      const rpc = new RpcException({ code: status.PERMISSION_DENIED, message: 'no entry' });
      const error = BlazeRpcError.from(rpc);
      expect(error).toBeInstanceOf(BlazeRpcError);
      expect(error).toMatchObject({ code: status.PERMISSION_DENIED, details: 'no entry', message: 'no entry' });
      expect(error.cause).toBe(rpc);
      expect(BlazeRpcError.from(new RpcException('text'))).toMatchObject({ code: status.UNKNOWN, details: 'text' });
    });

    it('wraps an HttpException by its HTTP status', () => {
      const http = new BadRequestException('text must be a string');
      const error = BlazeRpcError.from(http);
      expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'text must be a string' });
      expect(error.cause).toBe(http);
      const server = BlazeRpcError.from(new InternalServerErrorException('db password wrong'));
      expect(server).toMatchObject({ code: status.INTERNAL, message: INTERNAL_MESSAGE });
      expect(server.details).toBeUndefined();
    });

    it('wraps a plain Error as INTERNAL with a generic message, keeping it as the cause', () => {
      const plain = new Error('secret stack detail');
      const error = BlazeRpcError.from(plain);
      expect(error).toMatchObject({ code: status.INTERNAL, message: INTERNAL_MESSAGE });
      expect(error.details).toBeUndefined();
      expect(error.cause).toBe(plain);
      expect(BlazeRpcError.from('a string').cause).toBe('a string');
    });

    it('wraps a { code, message } status object as given; a grpc-js ServiceError (an Error) as INTERNAL', () => {
      const object = { code: status.NOT_FOUND, details: 'no such row' };
      expect(BlazeRpcError.from(object)).toMatchObject({ code: status.NOT_FOUND, details: 'no such row' });
      const serviceError = Object.assign(new Error('14 UNAVAILABLE: upstream'), {
        code: status.UNAVAILABLE,
        details: 'upstream',
        metadata: new Metadata(),
      });
      const wrapped = BlazeRpcError.from(serviceError);
      expect(wrapped).toMatchObject({ code: status.INTERNAL, message: INTERNAL_MESSAGE });
      expect(wrapped.cause).toBe(serviceError);
    });

    it('answers a call as the original would', () => {
      const inputs: unknown[] = [
        new RpcException({ code: status.INTERNAL, message: 'worded for the client' }),
        new BadRequestException('bad'),
        new InternalServerErrorException('hidden'),
        new Error('hidden'),
        { code: status.ABORTED, message: 'aborted' },
        { code: 0 },
      ];
      for (const input of inputs) expect(toCallStatus(BlazeRpcError.from(input))).toEqual(toCallStatus(input));
    });
  });

  describe('subclasses', () => {
    it('preset the code they answer with', () => {
      expect(new ModelNotFoundError('iris').code).toBe(status.NOT_FOUND);
      expect(new ModelNotFoundError('iris', '2').details).toBe("Model 'iris' version '2' is not registered");
      expect(new ValidationError('bad', 'text')).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'bad' });
      expect(new SerializationError('does not fit', 'float32').code).toBe(status.INTERNAL);
      expect(new SerializationError('does not fit').details).toBeUndefined();
      expect(new InferenceError('crashed', 'iris', { cause: 'oom' })).toMatchObject({
        code: status.INTERNAL,
        modelName: 'iris',
        cause: 'oom',
      });
      expect(new CallStatusError(status.RESOURCE_EXHAUSTED, 'full')).toMatchObject({
        code: status.RESOURCE_EXHAUSTED,
        details: 'full',
      });
      expect(new ConfigurationError('fix it').code).toBeUndefined();
    });

    it('answer a call by their code, failures with a generic message', () => {
      expect(toCallStatus(new ModelNotFoundError('iris'))).toEqual({
        code: status.NOT_FOUND,
        details: "Model 'iris' is not registered",
        unexpected: false,
      });
      expect(toCallStatus(new ValidationError('bad'))).toEqual({
        code: status.INVALID_ARGUMENT,
        details: 'bad',
        unexpected: false,
      });
      expect(toCallStatus(new CallStatusError(status.INTERNAL, 'framing'))).toEqual({
        code: status.INTERNAL,
        details: 'framing',
        unexpected: false,
      });
      const failure = { code: status.INTERNAL, details: INTERNAL_MESSAGE, unexpected: true };
      expect(toCallStatus(new SerializationError('bad tensor'))).toEqual(failure);
      expect(toCallStatus(new InferenceError('crashed', 'iris'))).toEqual(failure);
      expect(toCallStatus(new ConfigurationError('fix it'))).toEqual(failure);
      expect(toCallStatus(new BlazeRpcError('mine', { code: status.NOT_FOUND }))).toEqual(failure);
      expect(toCallStatus(new BlazeRpcError('mine', { code: status.NOT_FOUND, details: 'gone' }))).toEqual({
        code: status.NOT_FOUND,
        details: 'gone',
        unexpected: false,
      });
    });

    it("keep the client's errors' fields, and a server does not pass them on", () => {
      const metadata = new Metadata();
      const error = new BlazeRpcClientError(status.INVALID_ARGUMENT, 'upstream said no', metadata);
      expect(error).toBeInstanceOf(BlazeRpcError);
      expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'upstream said no', metadata });
      expect(error.codeName).toBe('INVALID_ARGUMENT');
      expect(Object.getOwnPropertyDescriptor(error, 'details')?.value).toBe('upstream said no');
      expect(toCallStatus(error)).toEqual({ code: status.INTERNAL, details: INTERNAL_MESSAGE, unexpected: true });
      const streamError = new OipStreamError('bad row', 'r1');
      expect(streamError).toBeInstanceOf(BlazeRpcClientError);
      expect(streamError).toMatchObject({ code: status.UNKNOWN, details: 'bad row', requestId: 'r1' });
      expect(toCallStatus(streamError).unexpected).toBe(true);
    });

    it("BlazeRpcClientError.from keeps a library error's own code out of the call's status", () => {
      expect(BlazeRpcClientError.from(new SerializationError('bad input')).code).toBe(status.UNKNOWN);
      expect(BlazeRpcClientError.from(new CallStatusError(status.CANCELLED, 'Cancelled')).code).toBe(status.CANCELLED);
      expect(BlazeRpcClientError.from({ code: status.UNAVAILABLE, details: 'down' })).toMatchObject({
        code: status.UNAVAILABLE,
        details: 'down',
      });
    });
  });
});
