import { isMainThread } from "node:worker_threads";
import { defineJob } from "sluice";

// Imports on the driver, throws when an executor imports it.
if (!isMainThread) throw new Error("this module cannot load on an executor");

export default defineJob((ctx) => {
  ctx
    .queueStream<number>([])
    .count()
    .foreachBatch(() => {});
});
