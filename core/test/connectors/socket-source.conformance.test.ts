import { socketSource } from "sluice";
import { describeSourceConformance } from "sluice/testing/conformance";
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
    notApplicable: {
      restart:
        "the line server keeps nothing once it sent a line: lines not acknowledged before a crash are in Sluice's write-ahead log",
      seek: "the socket source is not replayable",
      ackAfterOutput: "the line protocol has no acknowledgement: the server is never told",
    },
  },
);
