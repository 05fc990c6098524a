import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The Spark contender's build: Spark's jars fetched by Maven from the pom beside this file (as
 * scripts/services/install fetches the servers' jars) into spark/target/lib/, then the job
 * compiled with javac into spark/target/classes/. Both are skipped when already done.
 */
const HERE = fileURLToPath(new URL("./spark/", import.meta.url));
const LIB = join(HERE, "target/lib");
const CLASSES = join(HERE, "target/classes");
const SOURCE = join(HERE, "src/WordCountPeer.java");

/** Spark 3.5 on Java 17 reaches into the JDK's internals: the flags its launcher passes. */
const JAVA_17_FLAGS = [
  "-XX:+IgnoreUnrecognizedVMOptions",
  ...[
    "java.lang",
    "java.lang.invoke",
    "java.lang.reflect",
    "java.io",
    "java.net",
    "java.nio",
    "java.util",
    "java.util.concurrent",
    "java.util.concurrent.atomic",
    "sun.nio.ch",
    "sun.nio.cs",
    "sun.security.action",
    "sun.util.calendar",
  ].map((pkg) => `--add-opens=java.base/${pkg}=ALL-UNNAMED`),
  "-Djdk.reflect.useDirectMethodHandle=false",
];

/** Fetches the jars and compiles the job when needed; returns what it did, for the log. */
export function prepareSpark(log: (line: string) => void): void {
  if (!existsSync(join(LIB, "spark-streaming_2.12-3.5.6.jar"))) {
    const started = Date.now();
    log("peers: fetching the Spark 3.5.6 jars with Maven (once)...");
    const partial = `${LIB}.partial`;
    rmSync(partial, { recursive: true, force: true });
    execFileSync(
      "mvn",
      [
        "-B",
        "-q",
        "-Dstyle.color=never",
        "-f",
        join(HERE, "pom.xml"),
        "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies",
        `-DoutputDirectory=${partial}`,
        "-DincludeScope=runtime",
      ],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
    rmSync(LIB, { recursive: true, force: true });
    renameSync(partial, LIB);
    log(
      `peers: ${readdirSync(LIB).length} jars in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  }
  const compiled = join(CLASSES, "WordCountPeer.class");
  if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(SOURCE).mtimeMs) {
    log("peers: compiling the Spark job (javac)...");
    mkdirSync(CLASSES, { recursive: true });
    execFileSync("javac", ["-nowarn", "-d", CLASSES, "-cp", `${LIB}/*`, SOURCE], {
      stdio: ["ignore", "inherit", "inherit"],
    });
  }
}

/** The command that runs the Spark job with `args`. */
export function sparkCommand(args: readonly string[]): [string, string[]] {
  return [
    "java",
    ["-Xmx3g", ...JAVA_17_FLAGS, "-cp", `${CLASSES}:${LIB}/*`, "WordCountPeer", ...args],
  ];
}

/** The Rust limit's build (its own crate and workspace) and binary. */
const RUST = fileURLToPath(new URL("./rust/", import.meta.url));
export const RUST_BINARY = join(RUST, "target/release/peer-word-count");

export function buildRust(log: (line: string) => void): void {
  log("peers: building the Rust limit (cargo build --release)...");
  execFileSync("cargo", ["build", "--release", "--quiet"], {
    cwd: RUST,
    stdio: ["ignore", "inherit", "inherit"],
  });
}
