import { Scope, type Provider } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { BLAZE_CONTEXT } from '../blaze-rpc.constants.js';
import type { BlazeContext } from './blaze-context.js';

/** @internal Makes the call's context injectable as `BLAZE_CONTEXT` in request-scoped providers. */
export const blazeContextProvider: Provider = {
  provide: BLAZE_CONTEXT,
  scope: Scope.REQUEST,
  inject: [REQUEST],
  useFactory: (context: BlazeContext) => context,
};
