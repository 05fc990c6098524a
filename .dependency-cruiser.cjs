// The layer rules of the repository, checked by `npm run lint` (depcruise). Inside core/src:
// cli/ testing/ job/ on top, then context/ (builds the runtime scope and hands it down), then the
// runtime folders that receive it (dstream/ input/ plugins/ connectors/ recovery/ execution/
// scheduler/ flow/ cluster/), then connector/ (the SDK), and kernels/ util/ errors/ at the bottom. No
// import cycle may leave its folder; any violation fails.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cross-folder-cycle",
      comment:
        "An import cycle that leaves its folder ties the folders together: break it by passing the dependency in (constructor argument) or moving the shared piece down a layer.",
      severity: "error",
      from: { path: "^core/src/([^/]+)/" },
      to: { circular: true, viaSomeNot: "^core/src/$1/" },
    },
    {
      name: "context-only-from-above",
      comment:
        "Nothing below context/ reaches into the context: it receives what it needs (clock, listeners, kernels, ...) when it is built.",
      severity: "error",
      from: {
        path: "^core/src/(dstream|input|io|scheduler|execution|recovery|flow|plugins|connector|connectors|cluster|kernels|util|errors)/",
      },
      to: { path: "^core/src/context/" },
    },
    {
      name: "bottom-layers-stay-at-the-bottom",
      comment: "kernels/, util/ and errors/ are the base every other folder builds on.",
      severity: "error",
      from: { path: "^core/src/(kernels|util|errors)/" },
      to: { path: "^core/src/", pathNot: "^core/src/(kernels|util|errors)/" },
    },
    {
      name: "native-binding-only-in-kernels",
      comment:
        "Only kernels/ loads the native binding; everything else goes through the Kernels interface.",
      severity: "error",
      from: { path: "^core/src/", pathNot: "^core/src/kernels/" },
      to: { path: "(^|/)native/binding/|@sluice/native" },
    },
    {
      name: "connector-sdk-stands-alone",
      comment:
        "connector/ is the contract connectors are written against (`sluice/connector`): it builds on errors/ and util/ only, never on the runtime that calls connectors.",
      severity: "error",
      from: { path: "^core/src/connector/" },
      to: { path: "^core/src/", pathNot: "^core/src/(connector|errors|util)/" },
    },
    {
      name: "cluster-stands-on-the-sdk",
      comment:
        "cluster/ (a process's place in its cluster) knows Kafka only through the connector SDK's cluster contract: it builds on connector/, errors/ and util/, never on the runtime, and the Kafka client lives in the Kafka connector package.",
      severity: "error",
      from: { path: "^core/src/cluster/" },
      to: { path: "^core/src/", pathNot: "^core/src/(cluster|connector|errors|util)/" },
    },
    {
      name: "core-never-imports-connectors-or-samples",
      severity: "error",
      from: { path: "^core/" },
      to: { path: "^(connectors|samples)/" },
    },
    {
      name: "connectors-use-the-connector-sdk",
      comment:
        "A connector package's code is written against sluice/connector only: never core's internals, nor the job API of the sluice entry.",
      severity: "error",
      from: { path: "^connectors/[^/]+/src/" },
      to: { path: "^core/src/", pathNot: "^core/src/connector/index\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|target|node_modules)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["sluice-source", "import", "types", "default"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json"],
    },
  },
};
