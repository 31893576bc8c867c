// Visual mode for HTML posts on the editor page. The textarea stays the one source of the
// post: every change in the visual editor is written back into it and announced with an
// `input` event, so saving, live preview, autosave and conflicts work as they do without it.
// Without JavaScript none of this runs and the page is the plain form.
import { Editor } from "@tiptap/core";
import { htmlForEditor, htmlForPost, keepsEverything, visualExtensions } from "./schema.js";
import { pasteProps } from "./paste.js";
import { keyboardToolbar } from "./toolbar-keys.js";
import { keepPageStillOnPressOutside } from "./press-outside.js";

const COMMANDS = {
  bold: (chain) => chain.toggleBold(),
  italic: (chain) => chain.toggleItalic(),
  underline: (chain) => chain.toggleUnderline(),
  strike: (chain) => chain.toggleStrike(),
  paragraph: (chain) => chain.setParagraph(),
  heading2: (chain) => chain.toggleHeading({ level: 2 }),
  heading3: (chain) => chain.toggleHeading({ level: 3 }),
  heading4: (chain) => chain.toggleHeading({ level: 4 }),
  bulletList: (chain) => chain.toggleBulletList(),
  orderedList: (chain) => chain.toggleOrderedList(),
  blockquote: (chain) => chain.toggleBlockquote(),
  codeBlock: (chain) => chain.toggleCodeBlock(),
  horizontalRule: (chain) => chain.setHorizontalRule(),
  // Left is where text starts anyway: no style rather than `text-align: left`.
  alignLeft: (chain) => chain.unsetTextAlign(),
  alignCenter: (chain) => chain.setTextAlign("center"),
  alignRight: (chain) => chain.setTextAlign("right"),
  alignJustify: (chain) => chain.setTextAlign("justify"),
  unsetColor: (chain) => chain.unsetColor(),
  // Both kinds of highlight: Tistory's background on a span, and <mark>.
  unsetHighlight: (chain) => chain.unsetBackgroundColor().unsetHighlight(),
  unlink: (chain) => chain.extendMarkRange("link").unsetLink(),
  // A header row, as the archive's tables mostly have; the writer can remove it.
  insertTable: (chain) => chain.insertTable({ rows: 3, cols: 3, withHeaderRow: true }).command(tableTakesEmptyLine),
  addRowAfter: (chain) => chain.addRowAfter(),
  deleteRow: (chain) => chain.deleteRow(),
  addColumnAfter: (chain) => chain.addColumnAfter(),
  deleteColumn: (chain) => chain.deleteColumn(),
  toggleHeaderRow: (chain) => chain.toggleHeaderRow(),
  deleteTable: (chain) => chain.deleteTable(),
  undo: (chain) => chain.undo(),
  redo: (chain) => chain.redo(),
};

// A table inserted on an empty line takes that line's place (ProseMirror puts it after).
function tableTakesEmptyLine({ tr }) {
  const $caret = tr.selection.$from;
  for (let depth = $caret.depth; depth > 0; depth -= 1) {
    if ($caret.node(depth).type.name !== "table") continue;
    const start = $caret.before(depth);
    const before = tr.doc.resolve(start).nodeBefore;
    if (before && before.type.name === "paragraph" && before.content.size === 0) {
      tr.delete(start - before.nodeSize, start);
    }
    break;
  }
  return true;
}

// Whether each toolbar button is lit where the caret is.
const ACTIVE = {
  bold: (editor) => editor.isActive("bold"),
  italic: (editor) => editor.isActive("italic"),
  underline: (editor) => editor.isActive("underline"),
  strike: (editor) => editor.isActive("strike"),
  paragraph: (editor) => editor.isActive("paragraph") && !editor.isActive("codeBlock"),
  heading2: (editor) => editor.isActive("heading", { level: 2 }),
  heading3: (editor) => editor.isActive("heading", { level: 3 }),
  heading4: (editor) => editor.isActive("heading", { level: 4 }),
  bulletList: (editor) => editor.isActive("bulletList"),
  orderedList: (editor) => editor.isActive("orderedList"),
  blockquote: (editor) => editor.isActive("blockquote"),
  codeBlock: (editor) => editor.isActive("codeBlock"),
  alignLeft: (editor) => !["center", "right", "justify"].some((align) => editor.isActive({ textAlign: align })),
  alignCenter: (editor) => editor.isActive({ textAlign: "center" }),
  alignRight: (editor) => editor.isActive({ textAlign: "right" }),
  alignJustify: (editor) => editor.isActive({ textAlign: "justify" }),
  link: (editor) => editor.isActive("link"),
  toggleHeaderRow: (editor) => editor.isActive("tableHeader"),
};

// What the sanitiser lets a link go to (URL_SCHEMES in blog/content/sanitize.py), and
// addresses on this site.
function allowedHref(href) {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(href);
  return scheme ? ["http", "https", "mailto", "tel"].includes(scheme[1].toLowerCase()) : true;
}

// "#rgb", "#rrggbb" for <input type=color>; anything else (rgba, #rrggbbaa) has no place there.
function sixDigitHex(colour) {
  const match = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(colour || "");
  if (!match) return null;
  const digits = match[1].length === 3 ? [...match[1]].map((d) => d + d).join("") : match[1];
  return `#${digits.toLowerCase()}`;
}

function setUp(tools) {
  const form = document.getElementById("post-form");
  const textarea = document.getElementById("body");
  const format = document.getElementById("format");
  if (!form || !textarea || !format) return;
  const toolbar = tools.querySelector(".visual-toolbar");
  const modeButtons = tools.querySelectorAll("[data-mode]");
  let editor = null;
  let surface = null;
  const toolbarKeys = keyboardToolbar(toolbar, () => editor && editor.commands.focus());
  keepPageStillOnPressOutside(() => surface, () => Boolean(editor && editor.view.composing));

  // A syllable an IME is composing (ㅎ, 하, 한) is not text yet: it is written back, and so
  // previewed and autosaved, once the IME commits it (compositionend, in openVisual).
  let unwritten = false;
  function writeTextarea() {
    unwritten = false;
    textarea.value = htmlForPost(editor);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }
  function writeBack() {
    if (editor.view.composing) unwritten = true;
    else writeTextarea();
  }
  // Saving mid-composition (a tap on Save) keeps what is on the screen.
  form.addEventListener("submit", () => editor && unwritten && writeTextarea(), true);

  const tableTools = toolbar.querySelector(".table-tools");

  function showState() {
    for (const button of toolbar.querySelectorAll("[data-command]")) {
      const active = ACTIVE[button.dataset.command];
      if (active) button.setAttribute("aria-pressed", String(Boolean(editor && active(editor))));
    }
    for (const button of toolbar.querySelectorAll("[data-color]")) {
      const lit = editor && editor.isActive("textStyle", { color: button.dataset.color });
      button.setAttribute("aria-pressed", String(Boolean(lit)));
    }
    for (const button of toolbar.querySelectorAll("[data-highlight]")) {
      const lit = editor && editor.isActive("textStyle", { backgroundColor: button.dataset.highlight });
      button.setAttribute("aria-pressed", String(Boolean(lit)));
    }
    if (!editor) return;
    // The free colour pickers show the colour where the caret is, when it is one they can.
    const style = editor.getAttributes("textStyle");
    for (const [free, value] of [["color", style.color], ["highlight", style.backgroundColor]]) {
      const picker = toolbar.querySelector(`[data-free=${free}]`);
      const hex = sixDigitHex(value);
      if (picker && hex && document.activeElement !== picker) picker.value = hex;
    }
    const inTable = editor.isActive("table");
    if (tableTools.hidden === inTable) tableTools.hidden = !inTable;
    for (const button of tableTools.querySelectorAll("[data-command]")) {
      const command = button.dataset.command;
      button.disabled = !inTable || !editor.can()[command]();
    }
    toolbarKeys.keepTabStop();
  }

  function showMode(visual) {
    for (const button of modeButtons) {
      button.setAttribute("aria-pressed", String((button.dataset.mode === "visual") === visual));
    }
    toolbar.hidden = !visual;
    textarea.hidden = visual;
  }

  // The body as readers get it, sanitised by the server (markup.editable_html): the editor
  // never parses what the sanitiser drops (an <img onerror> pasted from Tistory, a script).
  // Pasted HTML goes the same way.
  async function editableHTML(body = textarea.value, bodyFormat = format.value) {
    const data = new FormData();
    data.append("body", body);
    data.append("format", bodyFormat);
    data.append("csrf_token", form.elements.csrf_token.value);
    let response;
    try {
      response = await fetch(tools.dataset.editableUrl, {
        method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" },
      });
    } catch {
      throw new Error(tools.dataset.unavailable); // offline, or the server is gone
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok || typeof answer.html !== "string") {
      throw new Error(answer.problem || tools.dataset.unavailable);
    }
    return answer.html;
  }

  // Each open or close counts: an open still waiting for the server when the writer chose
  // HTML, or changed the format, gives up when the answer comes.
  let openings = 0;
  let opening = false;
  /** Visual mode, after the server's answer; true if it opened. */
  async function openVisual({ focus = true } = {}) {
    if (editor || opening) return false;
    const generation = ++openings;
    opening = true;
    const wasReadOnly = textarea.readOnly;
    let html, body;
    try {
      // A Markdown post becomes HTML first, after the writer agrees (static/js/format-switch.js).
      if (format.value !== "html" && !(format.switchFormat && (await format.switchFormat("html")))) return false;
      if (generation !== openings) return false;
      // The body holds still while the server answers: what was typed meanwhile would be
      // overwritten by the editor's first change.
      textarea.readOnly = true;
      body = textarea.value;
      html = await editableHTML(body, "html");
    } catch (error) {
      window.alert(error.message || tools.dataset.unavailable);
      return false;
    } finally {
      opening = false;
      textarea.readOnly = wasReadOnly;
    }
    if (editor || generation !== openings || format.value !== "html" || textarea.value !== body) return false;
    const { plugin: pastePlugin, ...pasteEditorProps } = pasteProps({
      sanitise: (pasted) => editableHTML(pasted, "html"),
      problem: tools.dataset.pasteProblem,
    });
    surface = document.createElement("div");
    surface.className = "visual-surface post-body";
    textarea.after(surface);
    editor = new Editor({
      element: surface,
      extensions: visualExtensions(),
      content: htmlForEditor(html),
      injectCSS: false, // the CSP allows no <style> element; admin.css has the rules
      editorProps: {
        attributes: {
          role: "textbox",
          "aria-multiline": "true",
          "aria-label": tools.dataset.surfaceLabel,
          spellcheck: "true",
        },
        handleKeyDown: (view, event) => toolbarKeys.keyInText(event),
        // A dropped file is editor.js's to upload (then inserted at the caret, above).
        handleDrop: (view, event) => Boolean(event.dataTransfer && event.dataTransfer.files.length),
        ...pasteEditorProps,
      },
      onUpdate: writeBack,
      onTransaction: showState,
    });
    editor.registerPlugin(pastePlugin);
    // ProseMirror reads the committed text right after compositionend; a commit that
    // changed nothing on the screen brings no update, so the write-back is made here.
    surface.addEventListener("compositionend", () =>
      setTimeout(() => editor && unwritten && !editor.view.composing && writeTextarea()),
    );
    // Nothing is lost silently: HTML the editor cannot hold (a <details>, a <dl> …) is named
    // in a question, and the post stays in HTML mode unless the writer accepts the change.
    if (!keepsEverything(html, editor) && !window.confirm(tools.dataset.lossQuestion)) {
      editor.destroy();
      editor = null;
      surface.remove();
      surface = null;
      return false;
    }
    // editor.js inserts uploaded images through this instead of into the hidden textarea,
    // where the next change here would overwrite them.
    textarea.insertIntoVisual = (html) => {
      editor.chain().focus().insertContent(htmlForEditor(html.trim(), true)).run();
      return true;
    };
    showMode(true);
    showState();
    if (focus) editor.commands.focus("start");
    return true;
  }

  function closeVisual() {
    openings += 1;
    if (!editor) return;
    delete textarea.insertIntoVisual;
    editor.destroy();
    editor = null;
    surface.remove();
    surface = null;
    showMode(false);
  }

  for (const button of modeButtons) {
    button.addEventListener("click", () => {
      if (button.dataset.mode === "visual") {
        openVisual().then((opened) => opened && rememberMode(true));
      } else {
        rememberMode(false);
        closeVisual();
      }
    });
  }

  function askForLink(chain) {
    const current = editor.getAttributes("link").href || "";
    const answer = window.prompt(tools.dataset.linkQuestion, current);
    if (answer === null) return;
    const href = answer.trim();
    if (href === "") {
      chain.extendMarkRange("link").unsetLink().run();
    } else if (!allowedHref(href)) {
      window.alert(tools.dataset.linkRefused);
      editor.commands.focus();
    } else if (editor.state.selection.empty && !editor.isActive("link")) {
      // Nothing selected: the address becomes the link's text.
      chain.insertContent({ type: "text", text: href, marks: [{ type: "link", attrs: { href } }] }).run();
    } else {
      chain.extendMarkRange("link").setLink({ href }).run();
    }
  }

  // The image button picks a file for editor.js, which asks for its alt text, uploads it
  // through the media endpoint and inserts it at the caret (insertIntoVisual).
  function pickImage() {
    const picker = document.createElement("input");
    picker.type = "file";
    picker.accept = "image/*";
    picker.addEventListener("change", () => {
      if (!picker.files.length) return;
      document.dispatchEvent(new CustomEvent("editor:upload-images", { detail: { files: picker.files } }));
    });
    picker.click();
  }

  // A click on a button leaves the focus (and so the caret and the IME) in the text: the
  // command runs on the selection, and typing goes on where it was.
  toolbar.addEventListener("mousedown", (event) => {
    if (event.target.closest("button")) event.preventDefault();
  });

  toolbar.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !editor || button.disabled) return;
    const chain = editor.chain().focus();
    if (button.dataset.color) {
      chain.setColor(button.dataset.color).run();
    } else if (button.dataset.highlight) {
      chain.setBackgroundColor(button.dataset.highlight).run();
    } else if (button.dataset.command === "link") {
      askForLink(chain);
    } else if (button.dataset.command === "image") {
      pickImage();
    } else if (COMMANDS[button.dataset.command]) {
      COMMANDS[button.dataset.command](chain).run();
    }
  });

  // The free colours: applied as the writer picks (`input`), to the selection they had.
  toolbar.addEventListener("input", (event) => {
    const free = event.target.dataset && event.target.dataset.free;
    if (!free || !editor) return;
    const chain = editor.chain();
    if (free === "color") chain.setColor(event.target.value).run();
    else chain.setBackgroundColor(event.target.value).run();
  });

  // Visual mode is for HTML posts; a Markdown post is offered it when format-switch.js can
  // convert the post first, and keeps its textarea until then.
  function offerVisual() {
    const html = format.value === "html";
    if (!html) closeVisual();
    tools.hidden = !html && !format.switchFormat;
    tools.querySelector('[data-mode="html"]').hidden = !html;
  }
  format.addEventListener("change", offerVisual);
  offerVisual();
  // A writer who chose visual mode gets it again on the next HTML post they open.
  if (format.value === "html" && rememberedMode() === "visual") openVisual({ focus: false });
}

const MODE_KEY = "blog.editor.mode";

function rememberMode(visual) {
  try {
    window.localStorage.setItem(MODE_KEY, visual ? "visual" : "html");
  } catch {
    // Storage refused (private mode, quota): the writer picks the mode each time.
  }
}

function rememberedMode() {
  try {
    return window.localStorage.getItem(MODE_KEY);
  } catch {
    return null;
  }
}

function start() {
  const tools = document.getElementById("visual-tools");
  if (tools) setUp(tools);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
