import { defineJob } from "sluice";

// A job for async-build.test.ts: its build function is `async`, as a first guess often is.
export default defineJob(async (ctx) => {
  await Promise.resolve();
  ctx.queueStream([[1, 2, 3]]).print();
});
