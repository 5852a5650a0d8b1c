/**
 * What the worker sends to the ECS container agent and how it reads the answers, as amazon-ecs-agent's
 * task-protection handlers give them: plain values in, plain values out.
 */
import { describe, expect, it } from '@jest/globals';
import { interpretAgentResponse, protectionRequestBody, taskProtectionUrl } from '../../../../worker/task-protection/agent-client.ts';

const TASK_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task/ingest/0123456789abcdef0';

describe('the ECS agent task-protection endpoint', () => {
  it('sends ExpiresInMinutes only when enabling', () => {
    expect(protectionRequestBody('enable', 60)).toBe('{"ProtectionEnabled":true,"ExpiresInMinutes":60}');
    expect(protectionRequestBody('disable', 60)).toBe('{"ProtectionEnabled":false}');
  });

  it('puts the path after ECS_AGENT_URI, with or without a trailing slash', () => {
    expect(taskProtectionUrl('http://169.254.170.2/api/task-1')).toBe('http://169.254.170.2/api/task-1/task-protection/v1/state');
    expect(taskProtectionUrl(' http://169.254.170.2/api/task-1// ')).toBe('http://169.254.170.2/api/task-1/task-protection/v1/state');
  });

  it('reads the agent answers into success, a refusal, or a failure whose effect is unknown', () => {
    const protection = (enabled: boolean) => ({ protection: { ExpirationDate: '2030-01-01T00:00:00Z', ProtectionEnabled: enabled, TaskArn: TASK_ARN } });
    expect(interpretAgentResponse(200, protection(true), 'enable')).toStrictEqual({ ok: true, expirationDate: '2030-01-01T00:00:00Z' });
    expect(interpretAgentResponse(200, protection(false), 'disable')).toMatchObject({ ok: true });
    expect(interpretAgentResponse(200, protection(false), 'enable')).toMatchObject({ ok: false, definite: false });
    expect(interpretAgentResponse(200, { failure: { Arn: TASK_ARN, Detail: null, Reason: 'TASK_NOT_VALID' } }, 'enable')).toStrictEqual({
      ok: false,
      definite: true,
      error: 'ECS refused: TASK_NOT_VALID',
    });
    expect(
      interpretAgentResponse(403, { error: { Arn: TASK_ARN, Code: 'AccessDeniedException', Message: 'no task IAM role credentials' } }, 'enable'),
    ).toStrictEqual({ ok: false, definite: true, error: 'HTTP 403 AccessDeniedException: no task IAM role credentials' });
    expect(
      interpretAgentResponse(504, { error: { Arn: TASK_ARN, Code: 'RequestCanceled', Message: 'Timed out calling ECS Task Protection API' } }, 'enable'),
    ).toMatchObject({ ok: false, definite: false });
    expect(interpretAgentResponse(502, undefined, 'disable')).toStrictEqual({ ok: false, definite: false, error: 'HTTP 502 from the ECS agent' });
    expect(interpretAgentResponse(200, undefined, 'enable')).toMatchObject({ ok: false, definite: false });
    expect(interpretAgentResponse(200, {}, 'disable')).toMatchObject({ ok: true });
  });
});
