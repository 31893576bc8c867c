// The Markdown toolbar on the editor page: each button edits the Markdown text in the
// textarea (wraps the selection, or marks the selected lines) and applied twice takes its
// mark off again. Edits go through the browser's own text insertion, so Ctrl+Z undoes
// them and the `input` event runs the live preview and autosave as typing does.
// Without JavaScript the toolbar stays hidden and the textarea is the plain form.
(function () {
  "use strict";

  var toolbar = document.getElementById("markdown-toolbar");
  var textarea = document.getElementById("body");
  var format = document.getElementById("format");
  if (!toolbar || !textarea || !format) return;

  // Replace text[from, to) with `text`, then select [selectStart, selectEnd).
  function replace(from, to, text, selectStart, selectEnd) {
    // Held still while a conversion waits for the server (format-switch.js); setRangeText
    // would write anyway, and the conversion would then overwrite it.
    if (textarea.readOnly) return;
    textarea.focus();
    textarea.setSelectionRange(from, to);
    var done = text === "" && from !== to
      ? document.execCommand("delete")
      : document.execCommand("insertText", false, text);
    if (!done) {
      // No undoable insertion here (an old browser): plain assignment, announced by hand.
      textarea.setRangeText(text, from, to);
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    textarea.setSelectionRange(selectStart, selectEnd);
  }

  // How many `char`s run back from `end`, or on from `start`.
  function runBefore(value, end, char) {
    var count = 0;
    while (end - count > 0 && value[end - count - 1] === char) count++;
    return count;
  }
  function runAfter(value, start, char) {
    var count = 0;
    while (value[start + count] === char) count++;
    return count;
  }

  // The selection without the spaces around it: "**word **" would not be bold in Markdown.
  function trimmedSelection() {
    var value = textarea.value, start = textarea.selectionStart, end = textarea.selectionEnd;
    while (start < end && /\s/.test(value[start])) start++;
    while (end > start && /\s/.test(value[end - 1])) end--;
    return { start: start, end: end };
  }

  // Is the run of `char`s on both sides this mark? `**` is bold, `*` italic and `***`
  // both; `size` is the mark's length (2 for bold, 1 for italic and code).
  function marked(before, after, size) {
    var run = Math.min(before, after);
    return size === 2 ? run >= 2 : run % 2 === 1;
  }

  // Bold, italic, inline code: wrap the selection in `mark`, or take it off when the
  // selection is already wrapped (the marks inside it or just around it).
  function toggleWrap(mark) {
    var value = textarea.value, char = mark[0], size = mark.length;
    var range = trimmedSelection(), start = range.start, end = range.end;
    var inner = value.slice(start, end);
    var leading = runAfter(value, start, char), trailing = runBefore(value, end, char);
    if (end - start >= 2 * size && leading < end - start && marked(leading, trailing, size)) {
      var unwrapped = inner.slice(size, inner.length - size);
      replace(start, end, unwrapped, start, start + unwrapped.length);
    } else if (marked(runBefore(value, start, char), runAfter(value, end, char), size)) {
      replace(start - size, end + size, inner, start - size, end - size);
    } else {
      replace(start, end, mark + inner + mark, start + size, end + size);
    }
  }

  // The whole lines the selection touches: [start, end) without the last line's newline.
  function selectedLines() {
    var value = textarea.value, start = textarea.selectionStart, end = textarea.selectionEnd;
    // A selection ending at the start of a line (a triple click) does not take that line.
    if (end > start && value[end - 1] === "\n") end--;
    var lineStart = value.lastIndexOf("\n", start - 1) + 1;
    var lineEnd = value.indexOf("\n", end);
    if (lineEnd < 0) lineEnd = value.length;
    return { start: lineStart, end: lineEnd };
  }

  // `pattern`: the mark the button makes; `strip`: marks of its kind it replaces.
  var LINE_MARKS = {
    heading: { pattern: /^##[ \t]+/, strip: /^#{1,6}[ \t]+/, prefix: function () { return "## "; } },
    quote: { pattern: /^>[ \t]?/, prefix: function () { return "> "; }, blankToo: true },
    bulletList: { pattern: /^[-*+][ \t]+/, prefix: function () { return "- "; }, list: true },
    orderedList: { pattern: /^\d{1,9}[.)][ \t]+/, prefix: function (n) { return n + ". "; }, list: true },
  };
  var LIST_ITEM = /^([-*+]|\d{1,9}[.)])[ \t]+/;

  // Headings, quotes and lists: mark every selected line, or unmark them when all are
  // marked already. A line's other mark of the kind is swapped (### to ##, bullets to
  // numbers).
  function toggleLines(name) {
    var kind = LINE_MARKS[name];
    var value = textarea.value;
    var range = selectedLines();
    var lines = value.slice(range.start, range.end).split("\n");
    var single = lines.length === 1;
    function counts(line) { return single || kind.blankToo || line.trim() !== ""; }
    var all = lines.every(function (line) { return !counts(line) || kind.pattern.test(line); });
    var number = 0;
    var changed = lines.map(function (line) {
      if (all) return line.replace(kind.pattern, "");
      if (!counts(line)) return line;
      var bare = line.replace(kind.list ? LIST_ITEM : kind.strip || kind.pattern, "");
      number++;
      // A blank line inside a quote keeps the quote one block: ">" alone.
      return !single && line.trim() === "" ? ">" : kind.prefix(number) + bare;
    });
    var text = changed.join("\n");
    var before = "", after = "";
    // Python-Markdown starts a list only after a blank line, and a line right after the
    // last item would be read as part of it.
    if (kind.list && !all) {
      var previous = value.slice(0, range.start).split("\n").slice(-2, -1)[0];
      var next = value.slice(range.end + 1).split("\n")[0];
      if (range.start > 0 && previous !== undefined && previous.trim() !== "" && !LIST_ITEM.test(previous)) before = "\n";
      if (range.end < value.length && next.trim() !== "" && !LIST_ITEM.test(next)) after = "\n";
    }
    // A caret keeps its place in the text; a selection covers the changed lines.
    var start = range.start + before.length, end = start + text.length;
    if (textarea.selectionStart === textarea.selectionEnd) {
      var firstShift = changed[0].length - lines[0].length;
      start = end = Math.max(range.start, textarea.selectionStart + firstShift) + before.length;
    }
    replace(range.start, range.end, before + text + after, start, end);
  }

  // Code: a word or a phrase becomes `inline code`; several lines (or an empty line)
  // become a fenced block, and a fenced block's fences come off again.
  function toggleCode() {
    var value = textarea.value, start = textarea.selectionStart, end = textarea.selectionEnd;
    var range = selectedLines();
    var lineText = value.slice(range.start, range.end);
    var previousStart = value.lastIndexOf("\n", range.start - 2) + 1;
    var previous = range.start > 0 ? value.slice(previousStart, range.start - 1) : null;
    var nextEnd = value.indexOf("\n", range.end + 1);
    if (nextEnd < 0) nextEnd = value.length;
    var next = range.end < value.length ? value.slice(range.end + 1, nextEnd) : null;
    if (previous !== null && next !== null && /^(```|~~~)/.test(previous) && /^(```|~~~)\s*$/.test(next)) {
      replace(previousStart, nextEnd, lineText, previousStart, previousStart + lineText.length);
      return;
    }
    if (value.slice(start, end).indexOf("\n") < 0 && lineText.trim() !== "") {
      toggleWrap("`");
      return;
    }
    var fenced = "```\n" + lineText + "\n```";
    replace(range.start, range.end, fenced, range.start + 4, range.start + 4 + lineText.length);
  }

  // [text](address), or the text again when the address is left empty. A caret inside a
  // link edits that link.
  var LINK = /\[([^\]\n]*)\]\(([^)\s]*)\)/g;
  function editLink() {
    var value = textarea.value, start = textarea.selectionStart, end = textarea.selectionEnd;
    var range = selectedLines();
    var line = value.slice(range.start, range.end);
    var found = null, match;
    LINK.lastIndex = 0;
    while ((match = LINK.exec(line))) {
      var from = range.start + match.index, to = from + match[0].length;
      if (from <= start && end <= to) found = { from: from, to: to, text: match[1], href: match[2] };
    }
    var answer = window.prompt(toolbar.dataset.linkQuestion || "Link address", found ? found.href : "");
    if (answer === null) {
      textarea.focus();
      return;
    }
    // Markdown ends the address at a space or a closing parenthesis.
    var href = answer.trim().replace(/ /g, "%20").replace(/\(/g, "%28").replace(/\)/g, "%29");
    if (found) {
      var replacement = href ? "[" + found.text + "](" + href + ")" : found.text;
      replace(found.from, found.to, replacement, found.from, found.from + replacement.length);
      return;
    }
    if (!href) {
      textarea.focus();
      return;
    }
    var words = trimmedSelection();
    var text = value.slice(words.start, words.end) || answer.trim();
    replace(words.start, words.end, "[" + text + "](" + href + ")", words.start + 1, words.start + 1 + text.length);
  }

  // The image button picks a file for editor.js, which asks for its alt text, uploads it
  // through the page's upload form and inserts it at the caret (as the visual editor's
  // image button does).
  function uploadImage() {
    var picker = document.createElement("input");
    picker.type = "file";
    picker.accept = "image/jpeg,image/png,image/webp,image/gif";
    picker.addEventListener("change", function () {
      if (!picker.files.length) return;
      document.dispatchEvent(new CustomEvent("editor:upload-images", { detail: { files: picker.files } }));
    });
    picker.click();
  }

  var ACTIONS = {
    heading: function () { toggleLines("heading"); },
    bold: function () { toggleWrap("**"); },
    italic: function () { toggleWrap("*"); },
    link: editLink,
    bulletList: function () { toggleLines("bulletList"); },
    orderedList: function () { toggleLines("orderedList"); },
    quote: function () { toggleLines("quote"); },
    code: toggleCode,
    image: uploadImage,
  };

  toolbar.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-markdown]");
    if (button && ACTIONS[button.dataset.markdown]) ACTIONS[button.dataset.markdown]();
  });

  var SHORTCUTS = { b: "bold", i: "italic", k: "link" };
  var SHORTCUT_KEYS = { KeyB: "bold", KeyI: "italic", KeyK: "link" };
  textarea.addEventListener("keydown", function (event) {
    if (toolbar.hidden || event.isComposing || event.altKey || event.shiftKey) return;
    if (!(event.ctrlKey || event.metaKey)) return;
    // With the Korean IME on, the key may be a jamo (Ctrl+ㅠ): then the key's place decides.
    var letter = /^[a-z]$/i.test(event.key) ? event.key.toLowerCase() : "";
    var action = letter ? SHORTCUTS[letter] : SHORTCUT_KEYS[event.code];
    if (!action) return;
    event.preventDefault();
    ACTIONS[action]();
  });

  // Only Markdown posts have the toolbar.
  function offerToolbar() {
    toolbar.hidden = format.value !== "markdown";
  }
  format.addEventListener("change", offerToolbar);
  offerToolbar();
})();
