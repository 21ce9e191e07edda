// Parse an Argdown text with the reference parser (@argdown/core) and print what it found as JSON:
// counts of statements and relations, each statement's text and data, each relation, and every
// lexer/parser error or exception. Reads the file named as the first argument, or standard input.
// Used by tests/test_argdown_node.py; run `npm ci` in this directory first.
import { readFileSync } from "node:fs";
import { ArgdownApplication, DataPlugin, ModelPlugin, ParserPlugin } from "@argdown/core";

const input = readFileSync(process.argv[2] ?? 0, "utf-8");
const app = new ArgdownApplication();
app.addPlugin(new ParserPlugin(), "parse-input");
app.addPlugin(new DataPlugin(), "build-model");
app.addPlugin(new ModelPlugin(), "build-model");
const response = app.run({
  input,
  process: ["parse-input", "build-model"],
  logLevel: "error",
  throwExceptions: false,
});

const statements = Object.values(response.statements ?? {});
const relations = response.relations ?? [];
const summary = {
  statements: statements.length,
  relations: relations.length,
  frontMatter: response.frontMatter ?? null,
  texts: Object.fromEntries(
    statements.map((s) => [s.title, s.members?.[0]?.text ?? null]),
  ),
  data: Object.fromEntries(statements.map((s) => [s.title, s.data ?? null])),
  relationList: relations.map((r) => ({
    from: r.from?.title,
    to: r.to?.title,
    type: r.relationType,
  })),
  errors: [
    ...(response.lexerErrors ?? []).map((e) => `lexer: ${e.message} (line ${e.line})`),
    ...(response.parserErrors ?? []).map(
      (e) => `parser: ${e.message} (line ${e.token?.startLine})`,
    ),
    ...(response.exceptions ?? []).map((e) => `exception: ${e.message}`),
  ],
};
process.stdout.write(JSON.stringify(summary) + "\n");
