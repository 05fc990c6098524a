// A job whose connector config is invalid in two fields, for `sluice check`.
import { defineJob } from "sluice";

export default defineJob((ctx) => {
  ctx.source("file", { directory: "", format: "xml" }).print();
});
