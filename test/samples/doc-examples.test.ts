// The examples a new user copies first — the getting-started job and its test, the README's job,
// the streaming page's opening word count and its runBatches test — are kept as files in doc-examples/, equal to the pages' text, so
// `npm run typecheck` compiles them as a user's job would be (a pair stream whose reduce function
// cannot type-check is caught there), and the runBatches one runs here against what the page says.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const read = (path: string): string =>
  readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

/** Text without whitespace or trailing commas: the formatter may lay a file out otherwise. */
const withoutWhitespace = (text: string): string =>
  text.replace(/\s+/g, "").replace(/,([\])}])/g, "$1");

/** The ```ts blocks of a markdown page, in order. */
function typescriptBlocks(page: string): string[] {
  return [...read(page).matchAll(/```ts\n([\s\S]*?)```/g)].map((match) =>
    (match[1] ?? "").trimEnd(),
  );
}

/** A doc-examples file without its two header comment lines and trailing export. */
function exampleText(file: string): string {
  const lines = read(`test/samples/doc-examples/${file}`).split("\n").slice(2);
  return lines
    .filter((line) => line !== "export { output };")
    .join("\n")
    .trimEnd();
}

describe("the examples of the README, docs/getting-started.md and docs/streaming.md", () => {
  it.each([
    ["README.md", "readme-word-count.ts"],
    ["docs/streaming.md", "streaming-word-count.ts"],
    ["docs/streaming.md", "streaming-run-batches.ts"],
    ["docs/getting-started.md", "getting-started/jobs/word-count.ts"],
    ["docs/getting-started.md", "getting-started/test/word-count.test.ts"],
  ])("the example in %s is doc-examples/%s, word for word", (page, file) => {
    expect(typescriptBlocks(page).map(withoutWhitespace)).toContain(
      withoutWhitespace(exampleText(file)),
    );
  });

  it("runBatches gives what docs/streaming.md's comment says", async () => {
    const example = typescriptBlocks("docs/streaming.md").find((block) =>
      block.includes("runBatches("),
    );
    const documented = /^\/\/ (\[.*\]) — /m.exec(example ?? "")?.[1];
    expect(documented).toBeDefined();
    const { output } = await import("./doc-examples/streaming-run-batches.js");
    expect(output).toEqual(JSON.parse(documented ?? "null"));
  });
});
