/**
 * The simulator against the real thing: one small profile run for real on the local stack (two production worker
 * processes, each with two files in flight, every raw GetObject delayed 1.2 s by a proxy as a slow S3 would be) and
 * the same profile simulated with the same fixed task count and the seconds per file the real workers logged. The
 * backlog (visible + in flight) at the end of every minute must agree within max(10 messages, 20 % of the real
 * peak): the queue, the long polls and the files in flight are modelled well enough to predict a backlog that
 * grows and drains. Autoscaling is not part of it (nothing scales tasks locally); its models have unit tests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { simulate } from '../../../ops/simulate/engine.ts';
import type { ScalingPolicy, TrafficProfile } from '../../../ops/simulate/types.ts';
import { createTestStack } from '../../support/emulator.ts';
import { useFaultTest } from '../../support/fault-test.ts';
import { processEnvironment, startWorkerProcess, type WorkerProcess } from '../../support/worker-process.ts';
import { fixedTaskPolicy } from '../../support/scaling-policy.ts';

const TASKS = 2;
const FILES_IN_FLIGHT = 2;
const GET_OBJECT_DELAY_MS = 1_200;
const ARRIVALS_PER_MINUTE = 240;
const ARRIVAL_MINUTES = 2;
const DRAIN_MINUTES = 1;
const VISIBILITY_TIMEOUT_SECONDS = 60;
const FILE = Buffer.from(`${JSON.stringify({ device_id: 'sensor-alpha', temperature: 21.5, humidity: 40, timestamp: '2025-07-11T11:00:00Z' })}\n`);

const fault = useFaultTest();

/** A policy that holds the task count still: the local stack has no autoscaling to compare with. */
function fixedPolicy(): ScalingPolicy {
  return fixedTaskPolicy(TASKS, FILES_IN_FLIGHT, { queue: { visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS, maxReceiveCount: 3, receiveWaitSeconds: 1 } });
}

function meanSecondsPerFile(workers: readonly WorkerProcess[]): number {
  const durations = workers.flatMap((worker) =>
    worker.log.entries.filter(({ line }) => line['msg'] === 'file processed').map(({ line }) => Number(line['durationMs']) / 1000),
  );
  expect(durations.length).toBe(ARRIVALS_PER_MINUTE * ARRIVAL_MINUTES);
  return durations.reduce((sum, seconds) => sum + seconds, 0) / durations.length;
}

describe('the simulator against the local stack', () => {
  it(
    'predicts the backlog at the end of every minute within max(10, 20 % of the peak) for a fixed task count',
    async () => {
      const resources = await createTestStack(fault.clients, { maxReceiveCount: 3, visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS });
      const proxy = await fault.startProxy((request) =>
        request.operation === 'GetObject' && request.bucket === resources.rawBucket ? { kind: 'delay', ms: GET_OBJECT_DELAY_MS } : undefined,
      );
      const environment = processEnvironment(resources, proxy.url, {
        FILES_IN_FLIGHT_MODE: 'fixed',
        MAX_FILES_IN_FLIGHT: String(FILES_IN_FLIGHT),
        MIN_FILES_IN_FLIGHT: String(FILES_IN_FLIGHT),
        VISIBILITY_TIMEOUT_SECONDS: String(VISIBILITY_TIMEOUT_SECONDS),
      });
      const workers = await Promise.all(Array.from({ length: TASKS }, () => startWorkerProcess(environment)));

      const backlog = async (): Promise<number> => {
        const { Attributes } = await fault.clients.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: resources.queueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return Number(Attributes?.['ApproximateNumberOfMessages']) + Number(Attributes?.['ApproximateNumberOfMessagesNotVisible']);
      };

      const startedMs = performance.now();
      const atSecond = (seconds: number) => sleep(Math.max(0, startedMs + seconds * 1000 - performance.now()));
      const total = ARRIVALS_PER_MINUTE * ARRIVAL_MINUTES;
      const puts = (async () => {
        for (let index = 0; index < total; index += 1) {
          await atSecond((index * 60) / ARRIVALS_PER_MINUTE);
          await fault.clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: `check/${index}.jsonl`, Body: FILE }));
        }
      })();
      const realBacklog: number[] = [];
      for (let minute = 1; minute <= ARRIVAL_MINUTES + DRAIN_MINUTES; minute += 1) {
        await atSecond(minute * 60);
        realBacklog.push(await backlog());
      }
      await puts;
      // Every file finishes (bounded): the calibration below needs all their durations.
      const deadline = performance.now() + 120_000;
      while ((await backlog()) > 0 && performance.now() < deadline) await sleep(500);
      await sleep(1_000);

      const profile: TrafficProfile = {
        name: 'local-check',
        description: `${ARRIVALS_PER_MINUTE} files a minute for ${ARRIVAL_MINUTES} minutes`,
        arrivalsPerMinute: Array.from({ length: ARRIVAL_MINUTES }, () => ARRIVALS_PER_MINUTE),
        fileBytes: FILE.length,
        poisonShare: 0,
        drainMinutes: DRAIN_MINUTES,
      };
      const secondsPerFile = meanSecondsPerFile(workers);
      const simulated = simulate(fixedPolicy(), profile, { secondsPerFileFixed: secondsPerFile, cpuSecondsPerFile: 0, bytesPerCpuSecond: 1e12, taskStartSeconds: 0 });
      const simulatedBacklog = simulated.minutes.slice(0, realBacklog.length).map((sample) => sample.visible + sample.inFlight);

      const tolerance = Math.max(10, 0.2 * Math.max(...realBacklog));
      const report = `real ${JSON.stringify(realBacklog)}, simulated ${JSON.stringify(simulatedBacklog)}, ${secondsPerFile.toFixed(2)} s per file, tolerance ${tolerance}`;
      // The load exceeds the two tasks' capacity: the backlog grows for two minutes, then drains.
      expect({ report, grew: realBacklog[1]! > realBacklog[0]! && realBacklog[0]! > 10 }).toEqual({ report, grew: true });
      realBacklog.forEach((real, index) => {
        expect({ report, minute: index + 1, within: Math.abs(simulatedBacklog[index]! - real) <= tolerance }).toEqual({ report, minute: index + 1, within: true });
      });
    },
    8 * 60_000,
  );
});
