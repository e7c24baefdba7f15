// runtime/export/private-file.ts — creating a file for captured data as
// root: never through a symlink or over an existing file (O_CREAT|O_EXCL|
// O_NOFOLLOW), readable by its owner only (0600, whatever the umask), so a
// user who controls the directory cannot redirect captured plaintext or read
// it.
import fs from 'node:fs';
import { CapcError } from '../errors.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_CLOEXEC } = fs.constants as typeof fs.constants & {
  O_CLOEXEC?: number;
};

/** Open a new private file for writing; E0907 when it exists or cannot be created. */
export function createPrivateFile(file: string, what: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | (O_CLOEXEC ?? 0), 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'EEXIST'
        ? 'it already exists'
        : err.code === 'ENOENT'
          ? 'its directory does not exist'
          : err.code === 'ELOOP'
            ? 'it is a symbolic link'
            : err.message;
    throw new CapcError(
      'E0907',
      `cannot create the ${what} ${file}: ${why}`,
      err.code === 'EEXIST'
        ? ['capc never overwrites a capture file: remove it or choose a new name']
        : ['choose a file in a directory that exists and that only you can write to'],
    );
  }
  fs.fchmodSync(fd, 0o600);
  return fd;
}
