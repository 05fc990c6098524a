import { defineSource } from "sluice";
import { webhookConfig } from "./webhook-config.js";
import { WebhookSource } from "./webhook-source.js";

/**
 * The plugin: what Sluice finds when a job lists this package in `plugins`, or registers it
 * with `ctx.use(webhookSource)`. `create` only builds the object; the server starts in `connect`.
 *
 * @example
 * const ctx = new StreamingContext({ batchInterval: "1s" });
 * await connectorsOf(ctx).loadPlugins(["@sluice-samples/webhook-connector"]);
 * const orders = ctx.source("webhook", { port: 8080, path: "/hooks/orders" });
 */
export const webhookSource = defineSource({
  name: "webhook",
  version: "0.1.0",
  description: "Records POSTed over HTTP; each request is answered once its records are processed.",
  config: webhookConfig,
  capabilities: { replayable: false },
  create: (config, context) => new WebhookSource(config, context.logger),
});

export default webhookSource;
export { type WebhookConfig, webhookConfig } from "./webhook-config.js";
export { WebhookSource } from "./webhook-source.js";
