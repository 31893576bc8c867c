// The visual editor's document schema: Tiptap's StarterKit widened so that it keeps what
// blog/content/sanitize.py keeps (inline colours, alignment, table and cell styles,
// Tistory's data-ke-* attributes, ids, classes) and nothing more; the server sanitises the
// saved HTML again, so this is about losing nothing, never about safety.
import { Extension, Mark, Node, isValidCSSStyleValue, mergeAttributes } from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";
import { Bold } from "@tiptap/extension-bold";
import { Italic } from "@tiptap/extension-italic";
import { Strike } from "@tiptap/extension-strike";
import { TextStyle, Color, BackgroundColor } from "@tiptap/extension-text-style";
import Highlight from "@tiptap/extension-highlight";
import TextAlign from "@tiptap/extension-text-align";
import { Table, TableRow, TableCell, TableHeader } from "@tiptap/extension-table";
import Image from "@tiptap/extension-image";
import { DOMSerializer } from "@tiptap/pm/model";
import { breakLinesBetweenBlocks } from "./source-lines.js";

// Elements that hold blocks and may hold nothing else in the editor's schema.
const CONTAINER_TAGS = ["div", "section", "article", "aside", "header", "footer", "address", "figure"];
// Inline elements the sanitiser keeps and StarterKit has no mark for: kept as they are.
const INLINE_TAGS = ["span", "sub", "sup", "small", "abbr", "kbd", "q", "cite", "ins", "time",
  "var", "samp", "dfn", "bdi", "bdo"];
const ALIGNED_TYPES = ["heading", "paragraph", "tableCell", "tableHeader"];

// Properties another attribute owns on a type: the raw `style` keeps the rest, so a colour
// set from the toolbar never meets a stale one in the same attribute.
const OWNED_PROPERTIES = {
  textStyle: ["color", "background-color"],
  highlight: ["background-color"],
};
for (const type of ALIGNED_TYPES) OWNED_PROPERTIES[type] = ["text-align"];

function styleWithout(style, owned) {
  if (!style) return null;
  const kept = style
    .split(";")
    .map((declaration) => declaration.trim())
    .filter((declaration) => {
      const name = declaration.split(":", 1)[0].trim().toLowerCase();
      return declaration.includes(":") && !owned.includes(name);
    });
  return kept.length ? kept.join("; ") : null;
}

function keptAttributes(type) {
  const owned = OWNED_PROPERTIES[type] || [];
  const plain = (name) => ({
    default: null,
    parseHTML: (element) => element.getAttribute(name),
    renderHTML: (attributes) => (attributes[name] == null ? {} : { [name]: attributes[name] }),
  });
  const attributes = {
    style: {
      default: null,
      parseHTML: (element) => styleWithout(element.getAttribute("style"), owned),
      renderHTML: (attributes) => (attributes.style ? { style: attributes.style } : {}),
    },
    // Every data-ke-* attribute, in one object: Tistory's presets, whatever their names.
    tistory: {
      default: null,
      parseHTML: (element) => {
        const found = {};
        for (const { name, value } of element.attributes) {
          if (name.startsWith("data-ke-")) found[name] = value;
        }
        return Object.keys(found).length ? found : null;
      },
      renderHTML: (attributes) => attributes.tistory || {},
    },
  };
  const names = ["id", "lang", "dir", "align"];
  // Link and Image have their own class and title.
  if (type !== "link" && type !== "image") names.push("class", "title");
  for (const name of names) attributes[name] = plain(name);
  return attributes;
}

// Attributes the sanitiser allows on one element only (ALLOWED_ATTRIBUTES there).
const ELEMENT_ATTRIBUTES = {
  image: ["srcset", "sizes", "loading"],
  table: ["width", "border", "cellpadding", "cellspacing", "summary"],
  tableCell: ["valign", "width", "height"],
  tableHeader: ["valign", "width", "height", "scope"],
  orderedList: ["type", "reversed"],
  link: ["name", "hreflang"],
  blockquote: ["cite"],
  strike: ["cite", "datetime"],
};

const KEPT_TYPES = ["details", "detailsSummary", "definitionList", "definitionTerm",
  "definitionDescription", "paragraph", "heading", "blockquote", "bulletList", "orderedList",
  "listItem", "codeBlock", "horizontalRule", "table", "tableRow", "tableCell", "tableHeader",
  "image", "container", "figcaption", "textStyle", "link", "bold", "italic", "underline",
  "strike", "highlight", "code", "inlineElement", "hardBreak"];

export const KeptAttributes = Extension.create({
  name: "keptAttributes",
  addGlobalAttributes() {
    const globals = KEPT_TYPES.map((type) => ({ types: [type], attributes: keptAttributes(type) }));
    for (const [type, names] of Object.entries(ELEMENT_ATTRIBUTES)) {
      const attributes = {};
      for (const name of names) {
        attributes[name] = {
          default: null,
          parseHTML: (element) => element.getAttribute(name),
          renderHTML: (values) => (values[name] == null ? {} : { [name]: values[name] }),
        };
      }
      globals.push({ types: [type], attributes });
    }
    // Where a paragraph came from. true: the editor made it around bare text (in a list item,
    // cell, quote), written back without its <p>, so opening and saving a post never adds
    // paragraphs to it. false: a <p> of the post. null: made while writing; alone in a list
    // item or cell it is written without its <p> too, as Tistory writes them (htmlForPost).
    globals.push({
      types: ["paragraph"],
      attributes: {
        bare: {
          default: null,
          keepOnSplit: false,
          parseHTML: (element) => element.hasAttribute("data-visual-bare"),
          renderHTML: (attributes) =>
            attributes.bare ? { "data-visual-bare": "" } : attributes.bare === null ? { "data-visual-new": "" } : {},
        },
      },
    });
    // A row of a <thead> or <tfoot>: Tiptap's table has only a body, htmlForPost puts it back.
    globals.push({
      types: ["tableRow"],
      attributes: {
        section: {
          default: null,
          parseHTML: (element) => {
            const section = element.parentElement && element.parentElement.localName;
            return section === "thead" || section === "tfoot" ? section : null;
          },
          renderHTML: (attributes) =>
            attributes.section ? { "data-visual-section": attributes.section } : {},
        },
      },
    });
    return globals;
  },
});

// <b> or <strong>, <i> or <em>: written back as it was read; new bold is <b> as in the archive.
function keepingTag(mark, tags) {
  return mark.extend({
    addAttributes() {
      return {
        ...this.parent?.(),
        tag: {
          default: tags[0],
          parseHTML: (element) => {
            const tag = element.localName;
            return tags.includes(tag) ? tag : tags[0];
          },
          renderHTML: () => ({}),
        },
      };
    },
    renderHTML({ mark, HTMLAttributes }) {
      return [mark.attrs.tag, mergeAttributes(this.options.HTMLAttributes, HTMLAttributes), 0];
    },
  });
}

// div, section, figure …: a block holding blocks, under its own tag.
const Container = Node.create({
  name: "container",
  group: "block",
  content: "block+",
  defining: true,
  addAttributes() {
    return { tag: { default: "div", parseHTML: (element) => element.localName, renderHTML: () => ({}) } };
  },
  parseHTML() {
    return CONTAINER_TAGS.map((tag) => ({ tag }));
  },
  renderHTML({ node, HTMLAttributes }) {
    return [node.attrs.tag, HTMLAttributes, 0];
  },
});

const Figcaption = Node.create({
  name: "figcaption",
  group: "block",
  content: "inline*",
  parseHTML: () => [{ tag: "figcaption" }],
  renderHTML: ({ HTMLAttributes }) => ["figcaption", HTMLAttributes, 0],
});

// <details>: in the editor every part shows in a box, open or not, since the writer edits
// what a reader may unfold; the post keeps <details> with its `open` as it was.
const Details = Node.create({
  name: "details",
  group: "block",
  content: "detailsSummary? block+",
  defining: true,
  addAttributes() {
    return {
      open: {
        default: false,
        parseHTML: (element) => element.hasAttribute("open"),
        renderHTML: (attributes) => (attributes.open ? { open: "" } : {}),
      },
    };
  },
  parseHTML: () => [{ tag: "details" }],
  renderHTML: ({ HTMLAttributes }) => ["details", HTMLAttributes, 0],
  addNodeView() {
    return () => {
      const dom = document.createElement("div");
      dom.className = "visual-details";
      return { dom, contentDOM: dom };
    };
  },
});

const DetailsSummary = Node.create({
  name: "detailsSummary",
  content: "inline*",
  defining: true,
  parseHTML: () => [{ tag: "summary" }],
  renderHTML: ({ HTMLAttributes }) => ["summary", HTMLAttributes, 0],
  addNodeView() {
    return () => {
      const dom = document.createElement("div");
      dom.className = "visual-summary";
      return { dom, contentDOM: dom };
    };
  },
});

// <dl>: terms and their descriptions, as Markdown's definition lists and Tistory write them.
const DefinitionList = Node.create({
  name: "definitionList",
  group: "block",
  content: "(definitionTerm | definitionDescription)+",
  parseHTML: () => [{ tag: "dl" }],
  renderHTML: ({ HTMLAttributes }) => ["dl", HTMLAttributes, 0],
});

const DefinitionTerm = Node.create({
  name: "definitionTerm",
  content: "inline*",
  defining: true,
  parseHTML: () => [{ tag: "dt" }],
  renderHTML: ({ HTMLAttributes }) => ["dt", HTMLAttributes, 0],
});

const DefinitionDescription = Node.create({
  name: "definitionDescription",
  content: "block+",
  defining: true,
  parseHTML: () => [{ tag: "dd" }],
  renderHTML: ({ HTMLAttributes }) => ["dd", HTMLAttributes, 0],
});

const InlineElement = Mark.create({
  name: "inlineElement",
  excludes: "", // <small><sub>…</sub></small>: two of them may wrap the same text
  priority: 90,
  addAttributes() {
    return { tag: { default: "span", parseHTML: (element) => element.localName, renderHTML: () => ({}) } };
  },
  parseHTML() {
    // A span with a style is textStyle's; a span with nothing on it means nothing.
    return INLINE_TAGS.map((tag) => ({
      tag,
      getAttrs: (element) =>
        tag === "span" && (element.hasAttribute("style") || !element.attributes.length) ? false : null,
    }));
  },
  renderHTML({ mark, HTMLAttributes }) {
    return [mark.attrs.tag, HTMLAttributes, 0];
  },
});

// Tiptap's table adds a <colgroup> and a min-width for its column resizing, which we do not
// use: the table is written as it was read.
const PlainTable = Table.extend({
  renderHTML({ HTMLAttributes }) {
    return ["table", HTMLAttributes, ["tbody", 0]];
  },
});

// A highlight's colour is its background and nothing more (Tiptap adds `color: inherit` and a
// data-color the sanitiser drops): what was read is what is written.
const PlainHighlight = Highlight.extend({
  addAttributes() {
    return {
      color: {
        ...this.parent?.().color,
        renderHTML: (attributes) =>
          isValidCSSStyleValue(attributes.color) ? { style: `background-color: ${attributes.color}` } : {},
      },
    };
  },
});

// Cells are aligned by TextAlign (which knows `justify`) and keep a legacy align="…" as it was.
function withoutOwnAlign(cell) {
  return cell.extend({
    addAttributes() {
      const { align, ...rest } = this.parent?.() || {};
      return rest;
    },
  });
}

export function visualExtensions() {
  return [
    StarterKit.configure({
      // trailingNode stays on: a paragraph after a closing table or figure, so the caret can
      // go below it; htmlForPost leaves it out of the post while it is empty.
      bold: false,
      italic: false,
      strike: false,
      link: {
        openOnClick: false,
        autolink: false,
        // Only what the sanitiser lets through (URL_SCHEMES there).
        protocols: ["http", "https", "mailto", "tel"],
        HTMLAttributes: { target: null, rel: null, class: null },
      },
    }),
    keepingTag(Bold, ["b", "strong"]),
    keepingTag(Italic, ["i", "em"]),
    keepingTag(Strike, ["s", "del", "strike"]),
    TextStyle.configure({ mergeNestedSpanStyles: false }),
    Color,
    BackgroundColor,
    PlainHighlight.configure({ multicolor: true }),
    TextAlign.configure({ types: ALIGNED_TYPES }),
    PlainTable.configure({ resizable: false }),
    TableRow,
    withoutOwnAlign(TableHeader),
    withoutOwnAlign(TableCell),
    Image.configure({ inline: true, allowBase64: false }),
    Container,
    Figcaption,
    Details,
    DetailsSummary,
    DefinitionList,
    DefinitionTerm,
    DefinitionDescription,
    InlineElement,
    KeptAttributes,
  ];
}

// --- Bare text -----------------------------------------------------------------------------
// ProseMirror wraps text that sits directly in a list item, cell, quote or the body in a
// paragraph. Marking those paragraphs before parsing and unwrapping them after serialising
// keeps a post's structure as it was.

const BLOCK_TAGS = new Set(["p", "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "article",
  "aside", "header", "footer", "address", "figure", "figcaption", "blockquote", "ul", "ol", "li",
  "pre", "hr", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col",
  "dl", "dt", "dd", "details", "summary"]);
const HOLDS_BLOCKS = new Set(["li", "blockquote", "td", "th", "dd", "details", ...CONTAINER_TAGS]);

function wrapBareRuns(parent) {
  let run = [];
  const flush = () => {
    const meaningful = run.some(
      // &nbsp; counts: it is text, not the spaces HTML ignores.
      (node) => node.nodeType === 1 || (node.nodeType === 3 && /[^ \t\n\r\f]/.test(node.data)),
    );
    if (meaningful) {
      const paragraph = parent.ownerDocument.createElement("p");
      paragraph.setAttribute("data-visual-bare", "");
      run[0].before(paragraph);
      paragraph.append(...run);
    }
    run = [];
  };
  for (const child of [...parent.childNodes]) {
    if (child.nodeType === 1 && BLOCK_TAGS.has(child.localName)) {
      flush();
      visit(child);
    } else if (child.nodeType === 1 || child.nodeType === 3) {
      run.push(child);
    }
  }
  flush();
}

// Finds the elements that hold blocks (a list's items, a table's cells) wherever they are.
function visit(element) {
  if (HOLDS_BLOCKS.has(element.localName)) wrapBareRuns(element);
  else if (!["p", "pre", "figcaption"].includes(element.localName)) {
    for (const child of element.children) visit(child);
  }
}

/** The post's HTML as the editor should read it; `inserted` HTML goes where the caret is,
 * so its own bare text joins the caret's paragraph. */
export function htmlForEditor(html, inserted = false) {
  const template = document.createElement("template");
  template.innerHTML = html;
  if (inserted) for (const child of template.content.children) visit(child);
  else wrapBareRuns(template.content);
  return template.innerHTML;
}

// ProseMirror writes a style attribute through the CSSOM (element.style.cssText), which
// rewrites `#ee2323` as `rgb(238, 35, 35)`. Serialised into an XML document, whose elements
// have no .style, the attribute keeps the author's text; it is then copied into HTML.
function copyIntoHTML(source, target, htmlDocument) {
  for (const node of source.childNodes) {
    if (node.nodeType === 3) {
      target.append(htmlDocument.createTextNode(node.data));
    } else if (node.nodeType === 1) {
      const element = htmlDocument.createElement(node.localName);
      for (const { name, value } of node.attributes) element.setAttribute(name, value);
      copyIntoHTML(node, element.localName === "template" ? element.content : element, htmlDocument);
      target.append(element);
    }
  }
}

function documentHTML(doc, schema) {
  const xml = document.implementation.createDocument(null, null);
  const fragment = DOMSerializer.fromSchema(schema).serializeFragment(doc.content, { document: xml });
  const template = document.createElement("template");
  copyIntoHTML(fragment, template.content, template.content.ownerDocument);
  return template;
}

// Whether `paragraph`, alone in a list item, cell or description, can go without its <p>:
// it carries nothing, or only an alignment, which then goes to its parent (TextAlign sets
// both on a cell) unless the parent is aligned otherwise.
function moveAlignmentUp(paragraph) {
  const parent = paragraph.parentElement;
  const alone = parent && ["li", "td", "th", "dd"].includes(parent.localName) && parent.children.length === 1;
  if (!alone) return false;
  const align = /^text-align:\s*([a-z]+);?$/.exec(paragraph.getAttribute("style") || "");
  if (paragraph.attributes.length > (align ? 1 : 0)) return false;
  const parentStyle = parent.getAttribute("style") || "";
  const parentAlign = /(?:^|;)\s*text-align:\s*([a-z]+)/.exec(parentStyle);
  if (align && parentAlign && parentAlign[1] !== align[1]) return false;
  if (align && !parentAlign) {
    parent.setAttribute("style", parentStyle ? `${parentStyle.replace(/;?\s*$/, ";")} ${align[0]}` : align[0]);
  }
  return true;
}

/** The editor's document as the post keeps it. */
export function htmlForPost(editor) {
  if (editor.isEmpty) return ""; // not "<p></p>": an empty post stays empty
  const template = documentHTML(editor.state.doc, editor.schema);
  for (const paragraph of template.content.querySelectorAll("p[data-visual-bare]")) {
    paragraph.removeAttribute("data-visual-bare");
    // Bare text the writer aligned: the alignment goes to its list item or cell, or the
    // text keeps a <p> to carry it.
    if (!paragraph.attributes.length || moveAlignmentUp(paragraph)) paragraph.replaceWith(...paragraph.childNodes);
  }
  for (const paragraph of template.content.querySelectorAll("p[data-visual-new]")) {
    paragraph.removeAttribute("data-visual-new");
    if (moveAlignmentUp(paragraph)) paragraph.replaceWith(...paragraph.childNodes);
  }
  // The empty paragraph Tiptap keeps after a closing table (trailingNode) is not the post's.
  const last = template.content.lastChild;
  if (last && last.nodeType === 1 && last.localName === "p" && !last.attributes.length && !last.childNodes.length) {
    last.remove();
  }
  // An empty line the writer left (Enter twice) is a blank line for readers too, written as
  // Tistory writes it: an empty <p> would take no room on the page.
  for (const paragraph of template.content.querySelectorAll("p:empty")) {
    paragraph.append("\u00a0");
  }
  // A colour removed leaves a <span> with nothing on it: it means nothing.
  for (const span of template.content.querySelectorAll("span")) {
    if (!span.attributes.length) span.replaceWith(...span.childNodes);
  }
  for (const table of template.content.querySelectorAll("table")) {
    const body = table.querySelector(":scope > tbody");
    for (const section of ["thead", "tfoot"]) {
      const rows = [...table.querySelectorAll(`:scope > tbody > tr[data-visual-section=${section}]`)];
      if (!rows.length) continue;
      const group = table.ownerDocument.createElement(section);
      group.append(...rows);
      if (section === "thead") table.insertBefore(group, body);
      else table.append(group);
    }
    for (const row of table.querySelectorAll("tr[data-visual-section]")) {
      row.removeAttribute("data-visual-section");
    }
  }
  breakLinesBetweenBlocks(template.content);
  return template.innerHTML;
}

// --- What a post would lose ---------------------------------------------------------------

function signature(fragment) {
  const parts = [];
  for (const element of fragment.querySelectorAll("*")) {
    // What the sanitiser drops anyway (data-* other than Tistory's) is no loss.
    // The sanitiser writes every link's rel itself.
    const kept = [...element.attributes].filter(
      ({ name }) => name !== "rel" && name !== "contenteditable" && (!name.startsWith("data-") || name.startsWith("data-ke-")),
    );
    const names = kept.map(({ name, value }) =>
      name === "style" ? `style=${styleWithout(value, []) || ""}` : `${name}=${value}`,
    );
    // Tiptap always writes a table's <tbody>; an empty span is nothing.
    if (element.localName === "tbody" || (element.localName === "span" && !names.length)) continue;
    parts.push(`${element.localName}[${names.sort().join(" ")}]`);
  }
  // The text without the spaces HTML ignores (where the blocks break is in the elements).
  parts.push(fragment.textContent.replace(/[ \t\n\r\f]+/g, ""));
  return parts.sort().join("\n");
}

/** Whether the editor holds every element, attribute and letter of `html`. */
export function keepsEverything(html, editor) {
  const original = document.createElement("template");
  original.innerHTML = html;
  const written = document.createElement("template");
  written.innerHTML = htmlForPost(editor);
  return signature(original.content) === signature(written.content);
}
