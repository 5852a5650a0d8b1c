import { describe, expect, it } from '@jest/globals';
import { FileLoad } from '../../../../worker/queue/file-load.ts';

describe('FileLoad', () => {
  it('reports the files that ended normally with their mean duration, transient failures apart, others not at all', () => {
    // Prepare
    const load = new FileLoad();
    for (let file = 0; file < 6; file += 1) load.fileStarted();
    // Act
    load.fileEnded('succeeded', 1);
    load.fileEnded('missing', 2);
    load.fileEnded('stale', 3);
    load.fileEnded('failed_transient', 50);
    load.fileEnded('failed_permanent', 60);
    load.fileEnded('released', 70);
    // Assess
    expect(load.takeWindow()).toStrictEqual({ filesFinished: 3, meanFileSeconds: 2, transientFailures: 1, peakFilesRunning: 6 });
    expect(load.filesRunning).toBe(0);
  });

  it('starts each window from the files still running', () => {
    // Prepare
    const load = new FileLoad();
    for (let file = 0; file < 5; file += 1) load.fileStarted();
    for (let file = 0; file < 3; file += 1) load.fileEnded('succeeded', 1);
    load.takeWindow();
    // Act
    const quiet = load.takeWindow();
    // Assess
    expect(quiet).toStrictEqual({ filesFinished: 0, meanFileSeconds: 0, transientFailures: 0, peakFilesRunning: 2 });
  });
});
