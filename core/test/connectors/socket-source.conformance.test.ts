import { socketSource } from "sluice";
import { describeSourceConformance } from "sluice/testing";
import { LineServer } from "./line-server.js";

describeSourceConformance(
  "socket",
  async (testCase) => {
    const server = await LineServer.start();
    return {
      plugin: socketSource,
      config: {
        host: "127.0.0.1",
        port: server.port,
        onServerClose: testCase === "end-of-input" ? "end" : "reconnect",
      },
      produce: async (values) => server.send(values),
      dropConnections: async () => server.dropClients(),
      endInput: async () => server.endClients(),
      cleanup: () => server.close(),
    };
  },
  {
    invalidConfig: {
      config: { host: "", port: 70_000, onServerClose: "retry" },
      paths: ["host", "port", "onServerClose"],
    },
  },
);
