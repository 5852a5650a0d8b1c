/**
 * The smoke test's alarm step: one of the stack's CloudWatch alarms set to ALARM with SetAlarmState and
 * back to OK, so that the topic's subscribers see an e-mail arrive. CloudWatch comes in as a small
 * interface (tests pass a fake); choosing the alarm is pure.
 */
import type { DescribeAlarmsCommandInput, MetricAlarm, SetAlarmStateCommandInput } from '@aws-sdk/client-cloudwatch';
import { CHECKS, fail, pass, type CheckRow } from './checks.ts';

export interface AlarmApi {
  /** One page of DescribeAlarms (metric alarms). */
  describeAlarms(input: DescribeAlarmsCommandInput): Promise<{ alarms: readonly MetricAlarm[]; nextToken?: string | undefined }>;
  setAlarmState(input: SetAlarmStateCommandInput): Promise<void>;
}

/** How to find the alarm: named (flag or stack output), by the stack's alarm topic, or by the stack's name. */
export type AlarmLocator =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'topic'; readonly topicArn: string }
  | { readonly kind: 'stack'; readonly stackName: string };

/** The alarm infra/monitoring.ts names DeadLetterQueueNotEmpty: quiet on a healthy pipeline, so its e-mail is unmistakable. */
export const PREFERRED_ALARM = 'DeadLetterQueueNotEmpty';
const STATE_ALARM = 'ALARM';
const MAX_PAGES = 20;

/**
 * The alarm to fire: not one already in ALARM (setting ALARM again changes nothing and sends nothing),
 * the DLQ alarm first; undefined when there is none.
 */
export function pickAlarm(alarms: readonly MetricAlarm[]): MetricAlarm | undefined {
  const usable = alarms.filter((alarm) => alarm.AlarmName !== undefined && alarm.StateValue !== STATE_ALARM);
  return usable.find((alarm) => alarm.AlarmName?.includes(PREFERRED_ALARM)) ?? usable[0];
}

function describeInput(locator: AlarmLocator): DescribeAlarmsCommandInput {
  switch (locator.kind) {
    case 'name':
      return { AlarmNames: [locator.name], AlarmTypes: ['MetricAlarm'] };
    case 'topic':
      return { ActionPrefix: locator.topicArn, AlarmTypes: ['MetricAlarm'] };
    case 'stack':
      // CloudFormation names an alarm without a name of its own STACK-LOGICALID-RANDOM; infra's are under Monitoring.
      return { AlarmNamePrefix: `${locator.stackName}-Monitoring`, AlarmTypes: ['MetricAlarm'] };
  }
}

function describeLocator(locator: AlarmLocator): string {
  switch (locator.kind) {
    case 'name':
      return `the alarm ${locator.name}`;
    case 'topic':
      return `alarms acting on ${locator.topicArn}`;
    case 'stack':
      return `alarms named ${locator.stackName}-Monitoring…`;
  }
}

async function listAlarms(api: AlarmApi, locator: AlarmLocator): Promise<MetricAlarm[]> {
  const alarms: MetricAlarm[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const result = await api.describeAlarms({ ...describeInput(locator), ...(nextToken === undefined ? {} : { NextToken: nextToken }) });
    alarms.push(...result.alarms);
    nextToken = result.nextToken;
    if (nextToken === undefined) break;
  }
  return alarms;
}

export interface AlarmStepOptions {
  /** Named in the state reason, so that whoever reads the e-mail or the alarm history knows. */
  readonly smokeKey: string;
}

/** Finds the alarm, sets ALARM then OK; any CloudWatch error is the step's failure, not the command's. */
export async function fireSmokeAlarm(api: AlarmApi, locator: AlarmLocator, options: AlarmStepOptions): Promise<CheckRow> {
  let alarm: MetricAlarm | undefined;
  try {
    const alarms = await listAlarms(api, locator);
    if (locator.kind === 'name' && alarms[0]?.StateValue === STATE_ALARM) {
      return fail(CHECKS.alarm, `${locator.name} is already in ALARM: setting it again sends nothing; name another with --alarm-name`);
    }
    alarm = pickAlarm(alarms);
    if (alarm?.AlarmName === undefined) {
      const found = alarms.length === 0 ? 'none found' : `all ${alarms.length} already in ALARM`;
      return fail(CHECKS.alarm, `${describeLocator(locator)}: ${found}; pass --alarm-name NAME (or --no-alarm)`);
    }
    const name = alarm.AlarmName;
    const reason = `Smoke test (npm run ops -- smoke, ${options.smokeKey}): not a real alarm; set back to OK at once.`;
    await api.setAlarmState({ AlarmName: name, StateValue: 'ALARM', StateReason: reason });
    await api.setAlarmState({ AlarmName: name, StateValue: 'OK', StateReason: `Smoke test done (${options.smokeKey}); CloudWatch re-evaluates the alarm.` });
    return pass(
      CHECKS.alarm,
      `${name} set to ALARM, then OK: its topic's subscribers get one e-mail for each (an e-mail subscription must be confirmed first)`,
    );
  } catch (error) {
    const name = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const which = alarm?.AlarmName ?? describeLocator(locator);
    return fail(CHECKS.alarm, `${which}: ${name} (needs cloudwatch:DescribeAlarms and cloudwatch:SetAlarmState)`);
  }
}
