// runtime/files/private-files.ts — every file capc writes for the user
// (`-o FILE`, `--write-streams DIR`, the terminal UI's saves, `capc build -o`).
// Captured plaintext is secret and capc runs as root, so:
//  - files are created 0600 and directories 0700, whatever the umask;
//  - the last component of a path is never followed if it is a symbolic link
//    (O_NOFOLLOW), and files inside an output directory are opened relative to
//    the directory capc opened (through /proc/self/fd, Node's stand-in for
//    openat), so renaming or re-pointing the path afterwards changes nothing;
//  - in a directory another user can write (or owns), files are only created,
//    never reused (O_EXCL): a name they planted makes capc stop with E0907
//    instead of writing through it; in a directory only root (or the user
//    capc runs as) can write, capc's own files of an earlier run are replaced;
//  - a file replaced must be a regular file of ours with one link (never a
//    hard link to someone else's file).
import fs from 'node:fs';
import path from 'node:path';
import { CapcError } from '../errors.js';
import { describeMode, describeOwner, trustedOwner } from './trust.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY, O_RDONLY, O_APPEND } = fs.constants;

function unsafe(p: string, why: string, hint: string): CapcError {
  return new CapcError('E0907', `cannot write ${p}: ${why}`, [hint]);
}

/** Why opening `p` failed, in the user's terms (a planted link is named as one, whatever errno said). */
function errnoText(e: unknown, p?: string): string {
  const err = e as NodeJS.ErrnoException;
  if (p && (err.code === 'ELOOP' || err.code === 'EEXIST' || err.code === 'ENOTDIR')) {
    try {
      if (fs.lstatSync(p).isSymbolicLink()) return 'it is a symbolic link (capc does not write through links)';
    } catch {
      /* gone meanwhile: describe the error itself */
    }
  }
  return err.code === 'ELOOP'
    ? 'it is a symbolic link (capc does not write through links)'
    : err.code === 'EEXIST'
      ? 'it already exists in a directory other users can write (capc only creates new files there)'
      : err.code === 'ENOTDIR'
        ? 'it is not a directory'
        : (err.message ?? String(e));
}

/** A directory capc writes into, held open so what it names cannot change under capc. */
export class OutputDir {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    /** Files are created exclusively: the directory is not only ours. */
    readonly exclusive: boolean,
  ) {}

  /**
   * Opens `dir` for writing, creating it (0700) if it is missing. Its last
   * component is never followed if it is a link (E0907).
   */
  static open(dir: string): OutputDir {
    let created = false;
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
      created = true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true, mode: 0o700 });
        return OutputDir.open(dir);
      }
      if (code !== 'EEXIST')
        throw unsafe(dir, errnoText(e, dir), 'name a directory capc can create, or one that already exists');
    }
    let fd: number;
    try {
      fd = fs.openSync(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch (e) {
      throw unsafe(
        dir,
        errnoText(e, dir),
        'name a directory that is not a symbolic link (or a new one: capc creates it)',
      );
    }
    const st = fs.fstatSync(fd);
    if (created) fs.fchmodSync(fd, 0o700); // whatever the umask
    const ours = trustedOwner(st.uid) && !(st.mode & 0o022);
    return new OutputDir(dir, fd, !ours);
  }

  /** Where `name` is, relative to the directory capc holds open (not to its path, which could be changed). */
  private at(name: string): string {
    if (name.includes('/') || name === '.' || name === '..' || !name) throw new Error(`bad file name ${name}`);
    return `/proc/self/fd/${this.fd}/${name}`;
  }

  /** A file in this directory, 0600, for writing (positioned writes); see the module comment for the rules. */
  createFile(name: string, opts: { append?: boolean } = {}): number {
    const shown = path.join(this.path, name);
    const flags = O_WRONLY | O_CREAT | O_NOFOLLOW | (this.exclusive ? O_EXCL : 0) | (opts.append ? O_APPEND : 0);
    let fd: number;
    try {
      fd = fs.openSync(this.at(name), flags, 0o600);
    } catch (e) {
      throw unsafe(shown, errnoText(e, this.at(name)), 'remove it, or name a new directory (capc creates it 0700)');
    }
    try {
      const kept = claimFile(fd, shown);
      if (!opts.append && kept > 0) fs.ftruncateSync(fd, 0);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    return fd;
  }

  /** Whether `name` exists here (a link counts; nothing is followed). */
  has(name: string): boolean {
    try {
      fs.lstatSync(this.at(name));
      return true;
    } catch {
      return false;
    }
  }

  /** A subdirectory (created 0700; an existing one is reused only where files are not created exclusively). */
  subdir(name: string): OutputDir {
    const shown = path.join(this.path, name);
    let created = false;
    try {
      fs.mkdirSync(this.at(name), { mode: 0o700 });
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || this.exclusive)
        throw unsafe(shown, errnoText(e, this.at(name)), 'remove it, or name a new directory (capc creates it 0700)');
    }
    let fd: number;
    try {
      fd = fs.openSync(this.at(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch (e) {
      throw unsafe(shown, errnoText(e, this.at(name)), 'remove it, or name a new directory');
    }
    const st = fs.fstatSync(fd);
    if (created) fs.fchmodSync(fd, 0o700);
    else if (!trustedOwner(st.uid) || st.mode & 0o022) {
      fs.closeSync(fd);
      throw unsafe(shown, `it is owned by ${describeOwner(st.uid)}, mode ${describeMode(st.mode)}`, 'remove it');
    }
    return new OutputDir(shown, fd, false);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/**
 * The file just opened must be a regular file of ours with one link; made
 * 0600. A character device of root's (or ours), such as /dev/null, is
 * written as it is: it holds nothing, and no other user controls it.
 * Returns the bytes the file holds, which a writer that replaces it
 * truncates: -1 for such a device (not truncated, not chmodded), 0 for an
 * empty (new) file. An empty file is not truncated: on ext4 a truncate to
 * zero marks the file to have its data written back when it is closed
 * (auto_da_alloc, for programs that replace files in place), and the
 * thread that closes a stream file then started the disk writes itself
 * (~10% of the capture thread's CPU at wire speed, BENCHMARKS.md).
 */
function claimFile(fd: number, shown: string): number {
  const st = fs.fstatSync(fd);
  if (st.isCharacterDevice() && trustedOwner(st.uid)) return -1;
  if (!st.isFile()) throw unsafe(shown, 'it is not a regular file', 'name a regular file, or a new one');
  if (!trustedOwner(st.uid))
    throw unsafe(shown, `it belongs to ${describeOwner(st.uid)}`, 'remove it first, or name a new file');
  if (st.nlink > 1)
    throw unsafe(shown, `it has ${st.nlink} hard links (one may be another user's file)`, 'remove it first');
  fs.fchmodSync(fd, 0o600);
  return st.size;
}

/**
 * Opens FILE for writing, 0600: created if missing, replaced if it is ours in
 * a directory only we can write; never through a link (E0907).
 */
export function createPrivateFile(file: string, opts: { append?: boolean } = {}): number {
  const dir = path.dirname(path.resolve(file));
  let dirFd: number;
  try {
    dirFd = fs.openSync(dir, O_RDONLY | O_DIRECTORY);
  } catch (e) {
    throw unsafe(
      file,
      `its directory ${dir} cannot be opened: ${(e as Error).message}`,
      'name a file in an existing directory',
    );
  }
  try {
    const st = fs.fstatSync(dirFd);
    const exclusive = !(trustedOwner(st.uid) && !(st.mode & 0o022));
    const flags = O_WRONLY | O_CREAT | O_NOFOLLOW | (exclusive ? O_EXCL : 0) | (opts.append ? O_APPEND : 0);
    let fd: number;
    const at = `/proc/self/fd/${dirFd}/${path.basename(path.resolve(file))}`;
    try {
      fd = fs.openSync(at, flags, 0o600);
    } catch (e) {
      throw unsafe(file, errnoText(e, at), 'remove it, or name a new file in a directory only root can write');
    }
    try {
      const kept = claimFile(fd, file);
      if (!opts.append && kept > 0) fs.ftruncateSync(fd, 0);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    return fd;
  } finally {
    fs.closeSync(dirFd);
  }
}

/** Writes a whole file with createPrivateFile's rules. */
export function writePrivateFile(file: string, data: string | Buffer): void {
  const fd = createPrivateFile(file);
  try {
    fs.writeFileSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}
