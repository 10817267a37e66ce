/**
 * The file primitives every nodegrad reader and writer goes through. Writes land under a temporary
 * name and are renamed over the target, so a crash leaves the old file or the new one, never half
 * of one. Reads open regular files only and read what the caller asks for, so a FIFO, a device or
 * a huge junk file cannot hang a load or make it read without bound.
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { NodegradError } from '../errors.js';

/** `.name.<pid>.<hex>.tmp`: hidden, and the pid tells whether its writer may still be running. */
const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/;

/** Options of writeFileAtomic. */
export interface AtomicWriteOptions {
  /** Runs after the temporary file is complete and synced, just before the rename (tests use it to crash there). */
  beforeRename?: () => void;
}

/** Writes `data` to `path` via a synced temporary file in the same folder and a rename. */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array | readonly Uint8Array[],
  options: AtomicWriteOptions = {},
): void {
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd = openSync(temp, 'wx');
  try {
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.byteLength;) done += writeSync(fd, chunk, done, chunk.byteLength - done);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    options.beforeRename?.();
    renameSync(temp, path);
  } catch (error) {
    if (fd >= 0) closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  syncFolder(dirname(path));
}

/** Makes a rename durable across power loss; some platforms cannot open a folder, which is harmless here. */
function syncFolder(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Best effort: the rename itself is already atomic.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes temporary files in `dir` left by writers that died mid-write; returns their names. */
export function removeStaleTemps(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match || processAlive(Number(match[1]))) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** An open regular file: its size and positioned reads that fail on a short file instead of returning less. */
export interface RegularFile {
  /** The file's size in bytes when it was opened. */
  readonly size: number;
  /** `length` bytes from `position` (into `into` when given); throws when the file has fewer. */
  read(position: number, length: number, into?: Uint8Array): Uint8Array;
  /** Closes the file. */
  close(): void;
}

/**
 * Opens `path` for reading if it is a regular file. O_NONBLOCK keeps open() from waiting for a
 * FIFO's writer; the type check then refuses FIFOs, devices (/dev/zero) and folders by name.
 */
export function openRegularFile(op: string, path: string): RegularFile {
  let fd: number;
  try {
    // Windows defines no O_NONBLOCK.
    fd = openSync(path, constants.O_RDONLY | ((constants as { O_NONBLOCK?: number }).O_NONBLOCK ?? 0));
  } catch (error) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: cannot read ${path}: ${(error as Error).message}`);
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    const kind = stat.isFIFO()
      ? 'a FIFO'
      : stat.isCharacterDevice()
        ? 'a character device'
        : stat.isBlockDevice()
          ? 'a block device'
          : stat.isDirectory()
            ? 'a folder'
            : stat.isSocket()
              ? 'a socket'
              : 'not a regular file';
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: ${path} is ${kind}; expected a regular file`);
  }
  return {
    size: stat.size,
    read(position, length, into = new Uint8Array(length)) {
      for (let done = 0; done < length;) {
        const n = readSync(fd, into, done, length - done, position + done);
        if (n === 0) {
          throw new NodegradError(
            'ERR_NODEGRAD_ARGUMENT',
            `${op}: ${path} ended at byte ${position + done}; expected ${length} bytes from byte ${position} (file changed while reading?)`,
          );
        }
        done += n;
      }
      return into;
    },
    close() {
      closeSync(fd);
    },
  };
}

/** Reads a whole regular file of at most `maxBytes` bytes. */
export function readRegularFile(op: string, path: string, maxBytes: number): Buffer {
  const file = openRegularFile(op, path);
  try {
    if (file.size > maxBytes) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${op}: ${path} holds ${file.size} bytes; expected at most ${maxBytes}`,
      );
    }
    const bytes = Buffer.alloc(file.size);
    file.read(0, file.size, bytes);
    return bytes;
  } finally {
    file.close();
  }
}
