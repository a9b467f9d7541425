import { ApplicationConfig } from '@nestjs/core';
import {
  checkNestRelease,
  copyPreRequestHooks,
  globalPreRequestHooks,
  installedNestVersions,
} from '../../lib/core/nest-internals.js';

const nest = (common: string, core = common, microservices = common) => ({
  '@nestjs/common': common,
  '@nestjs/core': core,
  '@nestjs/microservices': microservices,
});

describe('the Nest release seam', () => {
  it('accepts Nest 11 and Nest 12, each of one major across its packages', () => {
    expect(checkNestRelease(nest('11.2.12'))).toBe(11);
    expect(checkNestRelease(nest('12.5.1', '12.5.1', '12.1.1'))).toBe(12);
  });

  it('refuses another major, naming what it found and what it supports', () => {
    expect(() => checkNestRelease(nest('13.0.0'))).toThrow(
      'nestjs-blazerpc supports Nest 11 and 12 (^11 || ^12, all packages of one major); this app has @nestjs/common@13.0.0, @nestjs/core@13.0.0, @nestjs/microservices@13.0.0.',
    );
    expect(() => checkNestRelease(nest('10.4.15'))).toThrow('this app has @nestjs/common@10.4.15');
  });

  it('refuses mixed majors and a package it cannot find, with the command that fixes it', () => {
    expect(() => checkNestRelease(nest('12.5.1', '12.5.1', '11.1.0'))).toThrow(
      'npm install @nestjs/common@12 @nestjs/core@12 @nestjs/microservices@12',
    );
    expect(() => checkNestRelease({ '@nestjs/common': '12.5.1', '@nestjs/core': '12.5.1' })).toThrow(
      '@nestjs/microservices@(unreadable)',
    );
  });

  it('reads the installed versions, also of packages whose exports map hides package.json', () => {
    const versions = installedNestVersions();
    expect(versions['@nestjs/microservices']).toMatch(/^12\./);
    expect(checkNestRelease(versions)).toBe(12);
  });

  it('copies pre-request hooks where Nest has them, and reads none from a Nest 11 configuration', () => {
    const hook = jest.fn();
    const from = new ApplicationConfig();
    from.registerPreRequestHook(hook);
    const to = new ApplicationConfig();
    copyPreRequestHooks(from, to);
    expect(globalPreRequestHooks(to)).toEqual([hook]);

    // Nest 11's ApplicationConfig has no pre-request hooks at all.
    const nest11Config = { getGlobalGuards: () => [] } as unknown as ApplicationConfig;
    expect(globalPreRequestHooks(nest11Config)).toEqual([]);
    expect(() => copyPreRequestHooks(nest11Config, to)).not.toThrow();
  });
});
