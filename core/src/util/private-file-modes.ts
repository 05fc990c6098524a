/**
 * Mode of the folders Sluice creates for what it keeps of a job's data (checkpoints, the
 * write-ahead log, dead letters): only the job's user may list or enter them.
 *
 * @example
 * await mkdir(directory, { recursive: true, mode: PRIVATE_FOLDER_MODE });
 */
export const PRIVATE_FOLDER_MODE = 0o700;

/**
 * Mode of the files Sluice creates for what it keeps of a job's data: only the job's user may
 * read or write them. The umask can only take bits away, so they are never more open than this.
 *
 * @example
 * const handle = await open(path, "wx", PRIVATE_FILE_MODE);
 */
export const PRIVATE_FILE_MODE = 0o600;
