import { defineSource } from "sluice/connector";
import { webhookConfig } from "./webhook-config.js";
import { WebhookSource } from "./webhook-source.js";

/**
 * The plugin: what Sluice finds when a job lists this package in `plugins`, or registers it
 * with `ctx.use(webhookSource)`. `create` only builds the object; the server starts in `connect`.
 *
 * @example
 * export default defineJob({
 *   plugins: ["@sluice-samples/webhook-connector"],
 *   build(ctx) {
 *     ctx.source("webhook", { port: 8080, path: "/hooks/orders" }).print();
 *   },
 * });
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
