// Compile one MDX file with @mdx-js/mdx and render it to static HTML with
// react-dom/server, the way an MDX site (Gatsby, Next, Docusaurus) builds a page.
// Usage: node render.mjs IN.mdx OUT.html. Exits non-zero when MDX does not compile.
// Components the page uses but does not define (e.g. <Tweet>) render as a marker, so a
// left-over embed shows up in the output instead of failing the build.
import { readFile, writeFile } from "node:fs/promises";
import { evaluate } from "@mdx-js/mdx";
import * as runtime from "react/jsx-runtime";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";

const [input, output] = process.argv.slice(2);
const source = await readFile(input, "utf8");
const { default: Content } = await evaluate(source, { ...runtime, baseUrl: import.meta.url });
const Missing = (name) => (props) =>
  createElement("span", { "data-unarchived-component": name, "data-id": props.id ?? "" });
const components = { Tweet: Missing("Tweet"), STweet: Missing("STweet") };
await writeFile(output, renderToStaticMarkup(createElement(Content, { components })));
