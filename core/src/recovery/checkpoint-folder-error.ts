import { SluiceError } from "../errors/sluice-error.js";
import { errorCode } from "./durable-fs.js";

/**
 * The error for a checkpoint folder that cannot be listed or made (`SLUICE_CHECKPOINT_WRITE_FAILED`),
 * naming the folder and what to do: a file where the folder should be (`ENOTDIR`, `EEXIST`),
 * no permission, or another system error. A `SluiceError` is returned as it is.
 *
 * @example
 * throw checkpointFolderError("/var/lib/job", error); // "... is not a folder: a file has its name ..."
 */
export function checkpointFolderError(directory: string, error: unknown): SluiceError {
  if (error instanceof SluiceError) return error;
  const code = errorCode(error);
  const reason =
    code === "ENOTDIR" || code === "EEXIST"
      ? "is not a folder: a file has its name (or the name of a folder on its path). Give the checkpoint a folder of its own"
      : code === "EACCES" || code === "EPERM"
        ? "cannot be read or written by the job's user. Give that user access to it, or choose another folder"
        : `cannot be used (${error instanceof Error ? error.message : String(error)}). The job's user must be able to create, read and write files there`;
  return new SluiceError(
    "SLUICE_CHECKPOINT_WRITE_FAILED",
    `the checkpoint folder ${directory} ${reason}`,
    {
      cause: error,
    },
  );
}
