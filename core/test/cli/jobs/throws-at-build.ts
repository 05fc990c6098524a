// A job whose build fails, for the CLI's error reporting.
import { defineJob } from "sluice";

export default defineJob(() => {
  throw new Error("the job's settings lack a topic");
});
