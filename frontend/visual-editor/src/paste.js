// Pasting into the visual editor. What Tistory, Word, Google Docs and web pages put on the
// clipboard as HTML is never parsed here as it comes: the server sanitises it first (the same
// sanitiser as publishing), and only then is it tidied (fonts, sizes, classes, Word's and
// Docs' bookkeeping dropped; Docs' bold and italic spans made <b> and <i>; Word's list
// paragraphs made lists) and pasted through ProseMirror's own paste, in one undo step.
// Chromium logs a CSP violation for an on* attribute even in a detached document, and
// ProseMirror parses the clipboard's HTML before its handlePaste hook is asked: hence the
// DOM event handler, which runs first.
import { Fragment, Slice } from "@tiptap/pm/model";
import { closeHistory } from "@tiptap/pm/history";
import { Plugin, TextSelection } from "@tiptap/pm/state";
import { htmlForEditor } from "./schema.js";

// --- Styles ---------------------------------------------------------------------------------
// A paste keeps what the writer meant (colours, highlights, alignment, the shape of a table)
// and drops how the source editor typeset it (fonts, sizes, line heights, margins).
const KEPT_EVERYWHERE = new Set(["color", "background-color", "text-align"]);
const TABLE_TAGS = new Set(["table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "col", "colgroup"]);
const KEPT_ON_TABLES = new Set(["width", "height", "border", "border-collapse", "border-color",
  "border-style", "border-width", "vertical-align", "border-top", "border-right", "border-bottom",
  "border-left"]);
const KEPT_ON = {
  ul: new Set(["list-style-type"]),
  ol: new Set(["list-style-type"]),
  img: new Set(["width", "height"]),
};
// The source's own ink and paper, written on every run by Docs and by Chromium when copying
// from a web page: not the writer's choice, and on the blog's dark theme black text or a
// white box would be unreadable.
const DEFAULT_INK = new Set(["#000", "#000000", "black", "rgb(0, 0, 0)", "rgb(0,0,0)", "windowtext"]);
const DEFAULT_PAPER = new Set(["#fff", "#ffffff", "white", "rgb(255, 255, 255)", "rgb(255,255,255)",
  "transparent", "rgba(0, 0, 0, 0)", "rgba(0,0,0,0)", "window"]);
const BOLD_WEIGHTS = new Set(["bold", "bolder", "600", "700", "800", "900"]);

function declarations(style) {
  // The sanitiser wrote it: `name: value` pairs, no `;` inside a value.
  return (style || "").split(";").flatMap((part) => {
    const colon = part.indexOf(":");
    if (colon < 0) return [];
    return [[part.slice(0, colon).trim().toLowerCase(), part.slice(colon + 1).trim()]];
  });
}

function wrapChildren(element, tag) {
  const wrapper = element.ownerDocument.createElement(tag);
  wrapper.append(...element.childNodes);
  element.append(wrapper);
}

function unwrap(element) {
  element.replaceWith(...element.childNodes);
}

// Copying from a web page (a Tistory post among them), Chromium writes the page's computed
// style on the copied range's outer elements: its text colour (a grey), its white paper, its
// alignment, and properties no writer sets by hand, such as text-transform: none beside
// text-indent: 0px and letter-spacing: normal. There a grey or white is the page's, not the
// writer's; a colour that is not grey (the red of a sentence) is kept.
const COMPUTED_STYLE_SIGNS = ["text-transform", "text-indent", "letter-spacing"];

function isGrey(value) {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value);
  let channels;
  if (hex) {
    const digits = hex[1].length === 3 ? [...hex[1]].map((d) => d + d) : hex[1].match(/../g);
    channels = digits.map((pair) => parseInt(pair, 16));
  } else {
    const rgb = /^rgba?\(\s*(\d+)[,\s]+(\d+)[,\s]+(\d+)\s*(?:[,/]\s*[\d.]+%?\s*)?\)$/i.exec(value);
    if (!rgb) return false;
    channels = rgb.slice(1, 4).map(Number);
  }
  return channels.every((channel) => channel === channels[0]);
}

// Bold, italic, underline, strikethrough and super/subscript written as styles (Docs writes
// nothing else) become the elements the editor's buttons make; the rest of the style is
// filtered by KEPT_*. Whether the element itself means nothing (then unwrapped).
function tidyStyle(element) {
  const tag = element.localName;
  const inLink = Boolean(element.closest("a"));
  const kept = [];
  const marks = [];
  let unwrapped = false; // a <b> that says it is not bold (Docs' wrapper), an <i> not italic
  const style = declarations(element.getAttribute("style"));
  const computed = COMPUTED_STYLE_SIGNS.every((sign) => style.some(([name]) => name === sign));
  for (const [name, value] of style) {
    const lower = value.toLowerCase();
    if (computed && (["color", "background-color", "background"].includes(name) ? isGrey(lower)
      : name === "text-align" && ["start", "left"].includes(lower))) {
      // dropped: the web page's own ink, paper and alignment
    } else if (name === "font-weight") {
      const bold = BOLD_WEIGHTS.has(lower);
      if (tag === "b" || tag === "strong") unwrapped = !bold;
      else if (bold && !/^h[1-6]$/.test(tag)) marks.push("b");
    } else if (name === "font-style") {
      const italic = lower === "italic" || lower === "oblique";
      if (tag === "i" || tag === "em") unwrapped = !italic;
      else if (italic) marks.push("i");
    } else if (name === "text-decoration" || name === "text-decoration-line") {
      // A link is underlined by the theme; Docs underlines its text again.
      if (lower.includes("underline") && !inLink) marks.push("u");
      if (lower.includes("line-through")) marks.push("s");
    } else if (name === "vertical-align" && !TABLE_TAGS.has(tag)) {
      if (lower === "super") marks.push("sup");
      if (lower === "sub") marks.push("sub");
    } else if (name === "color" && (DEFAULT_INK.has(lower) || inLink)) {
      // dropped: the source's default ink, or a link's colour (the theme's is used)
    } else if ((name === "background-color" || name === "background") && DEFAULT_PAPER.has(lower)) {
      // dropped: the source's paper
    } else if (name === "width" && TABLE_TAGS.has(tag) && !lower.endsWith("%")) {
      // dropped: Word sizes tables in points for its page, too wide for a phone
    } else if (name === "background") {
      kept.push(`background-color: ${value}`); // Word's highlight; the sanitiser let only a colour through
    } else if (KEPT_EVERYWHERE.has(name) || (TABLE_TAGS.has(tag) && KEPT_ON_TABLES.has(name))
      || (KEPT_ON[tag] && KEPT_ON[tag].has(name))) {
      kept.push(`${name}: ${value}`);
    }
  }
  if (kept.length) element.setAttribute("style", kept.join("; "));
  else element.removeAttribute("style");
  for (const mark of marks) wrapChildren(element, mark);
  return unwrapped;
}

// --- Word's lists ----------------------------------------------------------------------------
// Word writes a list as paragraphs of class MsoListParagraph… (or MsoListBullet/Number) whose
// text starts with the marker it drew ("·", "o", "§", "1.", "가."), inside conditional
// comments the sanitiser removes, leaving the marker as text. They become <ul>/<ol> items,
// nested by their left margin (the mso-list level itself is not kept by the sanitiser).
const WORD_LIST_CLASS = /(?:^|\s)MsoList(?:Paragraph|Bullet|Number)/;
const LIST_MARKER = /^[\s\u00a0]*(?:([·•▪■□◆◇○●o§\-\u2013\uf0b7\uf0a7\uf0d8\uf076\uf0fc])|((?:\d{1,3}|[a-zA-Z]|[ivxlcdmIVXLCDM]{1,6}|[가-힣])[.)]))[\s\u00a0]+/;

function isWordListParagraph(node) {
  return node && node.nodeType === 1 && node.localName === "p" && WORD_LIST_CLASS.test(node.getAttribute("class") || "");
}

function leftMargin(paragraph) {
  for (const [name, value] of declarations(paragraph.getAttribute("style"))) {
    if (name === "margin-left") return parseFloat(value) || 0;
  }
  return 0;
}

// Removes the marker's `length` characters from the start of the paragraph's text.
function dropMarker(paragraph, length) {
  const walker = paragraph.ownerDocument.createTreeWalker(paragraph, NodeFilter.SHOW_TEXT);
  let left = length;
  const emptied = [];
  while (left > 0 && walker.nextNode()) {
    const text = walker.currentNode;
    const taken = Math.min(left, text.data.length);
    text.data = text.data.slice(taken);
    left -= taken;
    if (!text.data) emptied.push(text);
  }
  for (const text of emptied) {
    let parent = text.parentNode;
    text.remove();
    while (parent !== paragraph && !parent.childNodes.length) {
      const up = parent.parentNode;
      parent.remove();
      parent = up;
    }
  }
}

function nextListParagraph(node) {
  let next = node.nextSibling;
  while (next && next.nodeType === 3 && !next.data.trim()) next = next.nextSibling;
  return isWordListParagraph(next) ? next : null;
}

function wordLists(root) {
  for (const first of [...root.querySelectorAll("p")]) {
    if (!first.parentNode || !isWordListParagraph(first)) continue; // (a fragment is never "connected")
    const previous = first.previousElementSibling;
    if (isWordListParagraph(previous)) continue; // handled with the run it belongs to
    const run = [first];
    for (let next = nextListParagraph(first); next; next = nextListParagraph(next)) run.push(next);
    const doc = first.ownerDocument;
    const stack = []; // [{list, margin}]
    const top = () => stack[stack.length - 1];
    for (const paragraph of run) {
      const marker = LIST_MARKER.exec(paragraph.textContent);
      const tag = marker && marker[2] ? "ol" : "ul";
      const margin = leftMargin(paragraph);
      while (stack.length > 1 && margin < top().margin) stack.pop();
      if (!stack.length || (margin > top().margin && top().list.lastElementChild)) {
        const list = doc.createElement(tag);
        if (!stack.length) first.before(list);
        else top().list.lastElementChild.append(list);
        stack.push({ list, margin });
      }
      if (marker) dropMarker(paragraph, marker[0].length);
      const item = doc.createElement("li");
      item.append(...paragraph.childNodes);
      top().list.append(item);
      paragraph.remove();
    }
  }
}

// --- The whole clean-up -----------------------------------------------------------------------

/** Sanitised pasted HTML, tidied for the editor: what the writer meant, not how the source
 * editor typeset it. Only ever given the server's sanitised HTML. */
export function tidyPastedHTML(sanitised) {
  const template = document.createElement("template");
  template.innerHTML = sanitised;
  const root = template.content;
  // Docs wraps everything in <b style="font-weight:normal" id="docs-internal-guid-…">.
  for (const wrapper of root.querySelectorAll('b[id^="docs-internal-guid-"], strong[id^="docs-internal-guid-"]')) {
    unwrap(wrapper);
  }
  // Chromium and WebKit end a copied range that ends a line with this <br>: not the writer's.
  for (const mark of root.querySelectorAll("br.Apple-interchange-newline")) mark.remove();
  wordLists(root);
  const unwrapped = [];
  for (const element of [...root.querySelectorAll("*")]) {
    if (element.localName === "img" && !element.getAttribute("src")) {
      element.remove(); // Word's file:///… pictures, whose address the sanitiser dropped
      continue;
    }
    // Word's and Docs' bookkeeping: class names, ids (which would clash with the post's),
    // the keyboard language of each run (lang=EN-US in a Korean document), ltr everywhere.
    // (And a link's rel, which the sanitiser writes itself on every save.)
    for (const name of ["class", "id", "lang", "rel"]) element.removeAttribute(name);
    if ((element.getAttribute("dir") || "").toLowerCase() === "ltr") element.removeAttribute("dir");
    if (element.localName === "div" && (element.getAttribute("align") || "").toLowerCase() === "left") {
      element.removeAttribute("align");
    }
    // Word's width="301" in pixels beside its width in points: too wide for a phone as well.
    const width = element.getAttribute("width");
    if (TABLE_TAGS.has(element.localName) && width && !width.trim().endsWith("%")) {
      element.removeAttribute("width");
    }
    const meaningless = element.hasAttribute("style") && tidyStyle(element);
    if (meaningless || (["span", "div"].includes(element.localName) && !element.attributes.length)) {
      unwrapped.push(element);
    }
  }
  for (const element of unwrapped) {
    // A non-bold <b> with a colour keeps the colour, on a span.
    if (element.attributes.length && element.localName !== "span" && element.localName !== "div") {
      const span = element.ownerDocument.createElement("span");
      for (const { name, value } of element.attributes) span.setAttribute(name, value);
      span.append(...element.childNodes);
      element.replaceWith(span);
    } else if (!element.attributes.length) {
      unwrap(element);
    }
  }
  // Docs puts each list item's and cell's text in a <p>: the item holds it bare, as Tistory's do.
  for (const paragraph of [...root.querySelectorAll("li > p:only-child, td > p:only-child, th > p:only-child")]) {
    const onlyChild = [...paragraph.parentNode.childNodes].every(
      (node) => node === paragraph || (node.nodeType === 3 && !node.data.trim()),
    );
    if (onlyChild && !paragraph.attributes.length) unwrap(paragraph);
  }
  return template.innerHTML;
}

// --- Plain text -----------------------------------------------------------------------------
// A blank line starts a new paragraph and a single line break stays a line break, as in
// Tistory's editor (TinyMCE's plain-text paste), WordPress and e-mail: text wrapped by hand
// keeps its lines without becoming a paragraph per line.

/** ProseMirror's clipboardTextParser: paragraphs at blank lines, <br> at single breaks. */
export function plainTextSlice(text, $context) {
  const schema = $context.doc.type.schema;
  const paragraphs = text
    .replace(/\r\n?/g, "\n")
    .split(/\n[ \t\u00a0]*\n/)
    .filter((block) => block.replace(/[\s\u00a0]+/g, ""))
    .map((block) => {
      const inline = [];
      block.replace(/^\n+|\n+$/g, "").split("\n").forEach((line, index) => {
        if (index) inline.push(schema.nodes.hardBreak.create());
        if (line) inline.push(schema.text(line));
      });
      return schema.nodes.paragraph.create(null, inline);
    });
  return Slice.maxOpen(Fragment.from(paragraphs));
}

// --- The paste itself -----------------------------------------------------------------------

function onlyImageFiles(data) {
  return [...data.files].every((file) => file.type.startsWith("image/"));
}

/** editorProps for pasting: `sanitise(html)` resolves to the server's sanitised HTML;
 * `problem` is the sentence shown when it cannot (the text is then pasted plain). */
export function pasteProps({ sanitise, problem }) {
  let queue = Promise.resolve(); // pastes land in the order they were made

  function pasteInOneStep(view, paste) {
    // One undo step: never merged with the typing just before or after it.
    view.dispatch(closeHistory(view.state.tr));
    paste();
    view.dispatch(closeHistory(view.state.tr));
  }

  function paste(view, event) {
    const data = event.clipboardData;
    if (!data) return false;
    const text = data.getData("text/plain");
    // An image file alone (a screenshot, "Copy image") is uploaded by editor.js, as a dropped
    // one is (alt text asked for); other files are not pasted. Word and Excel put a picture of
    // the selection beside its text: the text wins.
    if (data.files.length && !text.trim()) {
      event.preventDefault();
      if (onlyImageFiles(data)) {
        const files = data.files; // read now: the clipboard is closed once the event is over
        document.dispatchEvent(new CustomEvent("editor:upload-images", { detail: { files } }));
      }
      return true;
    }
    const html = data.getData("text/html");
    // Text pasted into a code block is ProseMirror's to paste: it never reads the HTML then.
    if (view.state.selection.$from.parent.type.spec.code) {
      if (text) return false;
      event.preventDefault(); // HTML alone: ProseMirror would parse it, as it came
      return true;
    }
    event.preventDefault();
    if (!html) {
      if (text) pasteInOneStep(view, () => view.pasteText(text, event)); // plainTextSlice's paragraphs
      return true;
    }
    pasteLater(view, html, text, event, view.state.selection);
    return true;
  }

  // The server answers in tens of milliseconds, and the writer may type on meanwhile: the
  // paste lands where the selection was when it was made, mapped through what came since.
  const pending = [];
  const keepSelections = new Plugin({
    state: {
      init: () => null,
      apply(tr) {
        if (tr.docChanged) for (const item of pending) item.bookmark = item.bookmark.map(tr.mapping);
        return null;
      },
    },
  });

  function pasteLater(view, html, text, event, selection) {
    const item = { bookmark: selection.getBookmark() };
    pending.push(item);
    const land = (how) => {
      pending.splice(pending.indexOf(item), 1);
      if (view.isDestroyed) return;
      const at = item.bookmark.resolve(view.state.doc);
      view.dispatch(view.state.tr.setSelection(at));
      pasteInOneStep(view, how);
    };
    queue = queue.then(async () => {
      let tidied;
      try {
        tidied = htmlForEditor(tidyPastedHTML(await sanitise(html)));
      } catch {
        window.alert(problem);
        land(() => view.pasteText(text, event));
        return;
      }
      land(() => view.pasteHTML(tidied, event));
    });
  }

  // HTML dragged in from another page or program: ProseMirror would parse it as it came
  // (before its handleDrop is asked), so it goes the way of a paste, to where it was dropped.
  // Files are editor.js's (an upload); a drag inside the editor is ProseMirror's own.
  function drop(view, event) {
    const data = event.dataTransfer;
    if (!data || view.dragging || data.files.length) return false;
    const html = data.getData("text/html");
    if (!html) return false;
    event.preventDefault();
    const spot = view.posAtCoords({ left: event.clientX, top: event.clientY });
    const selection = spot ? TextSelection.create(view.state.doc, spot.pos) : view.state.selection;
    pasteLater(view, html, data.getData("text/plain"), null, selection);
    return true;
  }

  return {
    handleDOMEvents: { paste, drop },
    clipboardTextParser: plainTextSlice,
    plugin: keepSelections,
  };
}
