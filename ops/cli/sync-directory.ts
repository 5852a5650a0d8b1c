/** Durability of a file's name: after creating or renaming a journal, its folder's entry is fsynced too. */
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Fsyncs the folder that holds `path`; where the platform cannot, the file's own fsync is what there is. */
export async function syncDirectoryOf(path: string): Promise<void> {
  let directory: FileHandle | undefined;
  try {
    directory = await open(dirname(path), 'r');
    await directory.sync();
  } catch {
    // Some platforms cannot open or fsync a folder.
  } finally {
    await directory?.close();
  }
}
