// A process that takes a checkpoint folder's lock and holds it until it is killed:
//   node --import tsx folder-lock-holder.ts <folder>
// It prints "held <generation>" once it holds the folder.
import { CheckpointFolderLock } from "../../src/recovery/checkpoint-folder-lock.js";

const folder = process.argv[2];
if (folder === undefined) throw new Error("usage: folder-lock-holder.ts <folder>");
const lock = await CheckpointFolderLock.acquire(folder, { appName: "holder" });
process.stdout.write(`held ${lock.generation}\n`);
// The lock's heartbeat does not keep a process alive; this does, until the test kills it.
setInterval(() => undefined, 60_000);
