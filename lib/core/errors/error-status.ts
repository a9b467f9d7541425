import { status as GrpcStatus } from '@grpc/grpc-js';
import { HttpException } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';

/**
 * The gRPC status an error answers a call with. (The client's `CallStatus` is
 * how a call ended as the client sees it.)
 */
export interface ErrorStatus {
  readonly code: GrpcStatus;
  readonly details: string;
  /** True when the error was not meant for the client: log it with its stack. */
  readonly unexpected: boolean;
}

/** Message sent for errors the client must not see the details of. */
export const INTERNAL_MESSAGE = 'Internal server error';

/** @internal The answer to a failure the client must learn nothing of: logged on the server, never sent. */
export const UNEXPECTED_STATUS: ErrorStatus = {
  code: GrpcStatus.INTERNAL,
  details: INTERNAL_MESSAGE,
  unexpected: true,
};

const HTTP_TO_GRPC: Readonly<Record<number, GrpcStatus>> = {
  400: GrpcStatus.INVALID_ARGUMENT,
  401: GrpcStatus.UNAUTHENTICATED,
  403: GrpcStatus.PERMISSION_DENIED,
  404: GrpcStatus.NOT_FOUND,
  408: GrpcStatus.DEADLINE_EXCEEDED,
  409: GrpcStatus.ALREADY_EXISTS,
  412: GrpcStatus.FAILED_PRECONDITION,
  413: GrpcStatus.RESOURCE_EXHAUSTED,
  429: GrpcStatus.RESOURCE_EXHAUSTED,
  499: GrpcStatus.CANCELLED,
  500: GrpcStatus.INTERNAL,
  501: GrpcStatus.UNIMPLEMENTED,
  503: GrpcStatus.UNAVAILABLE,
  504: GrpcStatus.DEADLINE_EXCEEDED,
};

/**
 * @internal The status of what is not a library error carrying its own code:
 * Nest `HttpException`s by HTTP status, `RpcException({ code, message })` and a
 * plain `{ code, message }` object (what filters written for Nest's gRPC
 * transport emit) as given, anything else `INTERNAL` with a generic message.
 * Details are not yet bounded: `toCallStatus` and `BlazeRpcError.from` do that.
 */
export function foreignErrorStatus(error: unknown): ErrorStatus {
  if (error instanceof RpcException) return fromRpcException(error);
  if (error instanceof HttpException) return fromHttpException(error);
  // What an exception filter written for Nest's own gRPC transport emits: `throwError(() => exception.getError())`.
  if (isStatusObject(error)) return fromStatusObject(error, INTERNAL_MESSAGE);
  return UNEXPECTED_STATUS;
}

function fromRpcException(error: RpcException): ErrorStatus {
  const payload = error.getError();
  if (typeof payload === 'string') return { code: GrpcStatus.UNKNOWN, details: payload, unexpected: false };
  return fromStatusObject(payload as StatusObject, error.message);
}

interface StatusObject {
  code?: unknown;
  message?: unknown;
  details?: unknown;
}

/** A plain object (not an Error) with a gRPC status code, as Nest's gRPC transport accepts from handlers and filters. */
function isStatusObject(error: unknown): error is StatusObject {
  if (typeof error !== 'object' || error === null || error instanceof Error) return false;
  const { code } = error as StatusObject;
  return typeof code === 'number' && code in GrpcStatus && code !== GrpcStatus.OK;
}

function fromStatusObject({ code, message, details }: StatusObject, fallbackText: string): ErrorStatus {
  const valid = typeof code === 'number' && code in GrpcStatus && code !== GrpcStatus.OK;
  const text = typeof message === 'string' ? message : typeof details === 'string' ? details : fallbackText;
  return { code: valid ? (code as GrpcStatus) : GrpcStatus.UNKNOWN, details: text, unexpected: false };
}

function fromHttpException(error: HttpException): ErrorStatus {
  const status = error.getStatus();
  const code = HTTP_TO_GRPC[status] ?? (status >= 500 ? GrpcStatus.INTERNAL : GrpcStatus.FAILED_PRECONDITION);
  if (code === GrpcStatus.INTERNAL) return UNEXPECTED_STATUS;
  return { code, details: httpExceptionText(error), unexpected: false };
}

/** `ValidationPipe` puts a list of messages in the response body; join them. */
function httpExceptionText(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : error.message;
}
