// A job whose build fails with a message quoting its settings, as careless job code does: the
// CLI must not pass the credentials in it on.
import { defineJob } from "sluice";

export default defineJob<{ readonly url: string; readonly token: string }>((_ctx, args) => {
  throw new Error(`cannot use ${args.url} with the token ${args.token}`);
});
