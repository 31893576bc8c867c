// Visual mode for HTML posts on the editor page. The textarea stays the one source of the
// post: every change in the visual editor is written back into it and announced with an
// `input` event, so saving, live preview, autosave and conflicts work as they do without it.
// Without JavaScript none of this runs and the page is the plain form.
import { Editor } from "@tiptap/core";
import { htmlForEditor, htmlForPost, keepsEverything, visualExtensions } from "./schema.js";

const COMMANDS = {
  bold: (chain) => chain.toggleBold(),
  italic: (chain) => chain.toggleItalic(),
  underline: (chain) => chain.toggleUnderline(),
  strike: (chain) => chain.toggleStrike(),
  paragraph: (chain) => chain.setParagraph(),
  heading2: (chain) => chain.toggleHeading({ level: 2 }),
  heading3: (chain) => chain.toggleHeading({ level: 3 }),
  bulletList: (chain) => chain.toggleBulletList(),
  orderedList: (chain) => chain.toggleOrderedList(),
  undo: (chain) => chain.undo(),
  redo: (chain) => chain.redo(),
  unsetColor: (chain) => chain.unsetColor(),
};

// Whether each toolbar button is lit where the caret is.
const ACTIVE = {
  bold: (editor) => editor.isActive("bold"),
  italic: (editor) => editor.isActive("italic"),
  underline: (editor) => editor.isActive("underline"),
  strike: (editor) => editor.isActive("strike"),
  paragraph: (editor) => editor.isActive("paragraph"),
  heading2: (editor) => editor.isActive("heading", { level: 2 }),
  heading3: (editor) => editor.isActive("heading", { level: 3 }),
  bulletList: (editor) => editor.isActive("bulletList"),
  orderedList: (editor) => editor.isActive("orderedList"),
  link: (editor) => editor.isActive("link"),
};

function setUp(tools) {
  const form = document.getElementById("post-form");
  const textarea = document.getElementById("body");
  const format = document.getElementById("format");
  if (!form || !textarea || !format) return;
  const toolbar = tools.querySelector(".visual-toolbar");
  const modeButtons = tools.querySelectorAll("[data-mode]");
  let editor = null;
  let surface = null;

  function writeBack() {
    textarea.value = htmlForPost(editor);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function showState() {
    for (const button of toolbar.querySelectorAll("[data-command]")) {
      const active = ACTIVE[button.dataset.command];
      if (active) button.setAttribute("aria-pressed", String(Boolean(editor && active(editor))));
    }
    for (const button of toolbar.querySelectorAll("[data-color]")) {
      const lit = editor && editor.isActive("textStyle", { color: button.dataset.color });
      button.setAttribute("aria-pressed", String(Boolean(lit)));
    }
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
  async function editableHTML() {
    const data = new FormData();
    data.append("body", textarea.value);
    data.append("format", format.value);
    data.append("csrf_token", form.elements.csrf_token.value);
    const response = await fetch(tools.dataset.editableUrl, {
      method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" },
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok || typeof answer.html !== "string") {
      throw new Error(answer.problem || tools.dataset.unavailable);
    }
    return answer.html;
  }

  let opening = false;
  async function openVisual() {
    if (editor || opening) return;
    opening = true;
    let html;
    try {
      // A Markdown post becomes HTML first, after the writer agrees (static/js/format-switch.js).
      if (format.value !== "html" && !(format.switchFormat && (await format.switchFormat("html")))) return;
      html = await editableHTML();
    } catch (error) {
      window.alert(error.message || tools.dataset.unavailable);
      return;
    } finally {
      opening = false;
    }
    if (editor) return;
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
        // A dropped file is editor.js's to upload (then inserted at the caret, above).
        handleDrop: (view, event) => Boolean(event.dataTransfer && event.dataTransfer.files.length),
      },
      onUpdate: writeBack,
      onTransaction: showState,
    });
    // Nothing is lost silently: HTML the editor cannot hold (a <details>, a <dl> …) is named
    // in a question, and the post stays in HTML mode unless the writer accepts the change.
    if (!keepsEverything(html, editor) && !window.confirm(tools.dataset.lossQuestion)) {
      editor.destroy();
      editor = null;
      surface.remove();
      surface = null;
      return;
    }
    // editor.js inserts uploaded images through this instead of into the hidden textarea,
    // where the next change here would overwrite them.
    textarea.insertIntoVisual = (html) => {
      editor.chain().focus().insertContent(htmlForEditor(html.trim(), true)).run();
      return true;
    };
    showMode(true);
    showState();
    editor.commands.focus("start");
  }

  function closeVisual() {
    if (!editor) return;
    delete textarea.insertIntoVisual;
    editor.destroy();
    editor = null;
    surface.remove();
    surface = null;
    showMode(false);
  }

  for (const button of modeButtons) {
    button.addEventListener("click", () => (button.dataset.mode === "visual" ? openVisual() : closeVisual()));
  }

  toolbar.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !editor) return;
    const chain = editor.chain().focus();
    if (button.dataset.color) {
      chain.setColor(button.dataset.color).run();
    } else if (button.dataset.command === "link") {
      const current = editor.getAttributes("link").href || "";
      const href = window.prompt(tools.dataset.linkQuestion, current);
      if (href === null) return;
      if (href.trim() === "") chain.extendMarkRange("link").unsetLink().run();
      else chain.extendMarkRange("link").setLink({ href: href.trim() }).run();
    } else if (COMMANDS[button.dataset.command]) {
      COMMANDS[button.dataset.command](chain).run();
    }
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
}

function start() {
  const tools = document.getElementById("visual-tools");
  if (tools) setUp(tools);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
