/** A Dockerfile stage replayed on this machine: a folder that stands for the stage's `/`. */
import { join, posix, sep } from 'node:path';
import type { Stage } from './dockerfile.ts';

export interface StageFolder {
  readonly stage: Stage;
  /** Stands for the stage's `/`. */
  readonly root: string;
  /** The stage's WORKDIR, as a container path. */
  workdir: string;
}

export function hostPath(folder: StageFolder, containerPath: string): string {
  const absolute = posix.isAbsolute(containerPath) ? containerPath : posix.join(folder.workdir, containerPath);
  const path = join(folder.root, ...posix.normalize(absolute).split('/').filter(Boolean));
  if (path !== folder.root && !path.startsWith(folder.root + sep)) throw new Error(`${containerPath} leaves the stage's filesystem`);
  return path;
}
