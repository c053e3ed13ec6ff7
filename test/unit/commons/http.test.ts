import { describe, expect, it, vi } from 'vitest';
import { BadRequestError, ServiceUnavailableError } from '#commons/errors.ts';
import { clientPath, errorResponse, jsonResponse, jsonWithRawMember } from '#commons/http.ts';
import { logger } from '#commons/powertools.ts';
import { apiGatewayEvent } from '#test/helpers/events.ts';

describe('Function: jsonResponse', () => {
  it('serializes the body with the JSON content type', () => {
    expect(jsonResponse(202, { a: 1 }, { location: '/x' })).toEqual({
      statusCode: 202,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        location: '/x',
      },
      body: '{"a":1}',
    });
  });
});

describe('Function: errorResponse', () => {
  it('returns an HttpError with its status, code, message and details', () => {
    const response = errorResponse(
      new BadRequestError('NUMBERS_EMPTY', '"numbers" is empty', { details: { at: 0 } }),
      logger,
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'NUMBERS_EMPTY', message: '"numbers" is empty', details: { at: 0 } },
    });
  });

  it('leaves details out when there are none', () => {
    const response = errorResponse(new ServiceUnavailableError('DISPATCH_FAILED', 'later'), logger);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'DISPATCH_FAILED', message: 'later' },
    });
  });

  it('returns a generic 500 for any other error and logs it, never leaking its message', () => {
    const logError = vi.spyOn(logger, 'error');
    const secret = new Error('AccessDenied on arn:aws:dynamodb:eu-west-1:123:table/secret');
    const response = errorResponse(secret, logger);
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'INTERNAL_ERROR', message: 'an internal error occurred' },
    });
    expect(response.body).not.toContain('secret');
    expect(logError).toHaveBeenCalledWith('request failed', { errorName: 'Error', error: secret });
    logError.mockRestore();
  });
});

describe('Function: jsonWithRawMember', () => {
  it('appends raw JSON text as a member, keeping it byte for byte', () => {
    const raw = '[1,"81129638414606663681390495662081",0.010000000000000002]';
    const json = jsonWithRawMember({ jobId: 'j', count: 3 }, 'results', raw);
    expect(json).toBe(`{"jobId":"j","count":3,"results":${raw}}`);
    expect(JSON.parse(json).results).toEqual([
      1,
      '81129638414606663681390495662081',
      0.010000000000000002,
    ]);
  });

  it('works on an empty object', () => {
    expect(jsonWithRawMember({}, 'results', '[]')).toBe('{"results":[]}');
  });
});

describe('Function: clientPath', () => {
  it('prefixes the stage the client called through', () => {
    const event = apiGatewayEvent({ httpMethod: 'POST', resource: '/jobs', path: '/jobs' });
    expect(clientPath(event, '/jobs/abc')).toBe('/prod/jobs/abc');
  });

  it('returns the API path when the request context has no matching path', () => {
    const event = apiGatewayEvent({ httpMethod: 'POST', resource: '/jobs', path: '/jobs' });
    const withoutStage = { ...event, requestContext: { ...event.requestContext, path: '/other' } };
    expect(clientPath(withoutStage, '/jobs/abc')).toBe('/jobs/abc');
  });
});
