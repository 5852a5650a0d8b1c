import { fileURLToPath } from 'node:url';

/** The build context: the folder the Dockerfile's COPY sources are relative to. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
