// The visual editor's toolbar by keyboard, as WAI-ARIA's toolbar pattern describes it
// (https://www.w3.org/WAI/ARIA/apg/patterns/toolbar/): the toolbar is one Tab stop, the
// button last used (roving tabindex); Left and Right move between its controls and wrap
// around, Home and End go to the first and last; Enter and Space press a button (they are
// buttons); Escape goes back to the text. Alt+F10 in the text goes to the toolbar, as in
// TinyMCE and CKEditor: it is also the way out of a table or a list, where Tab moves
// between cells or indents an item.

const MOVES = {
  ArrowRight: (index, count) => (index + 1) % count,
  ArrowLeft: (index, count) => (index - 1 + count) % count,
  Home: () => 0,
  End: (index, count) => count - 1,
};

// Controls that use the arrow keys themselves keep them.
function usesArrows(element) {
  if (element.localName === "select" || element.localName === "textarea") return true;
  return element.localName === "input" && !["button", "checkbox", "color", "radio"].includes(element.type);
}

/** Make `toolbar` one Tab stop with arrow keys between its controls; `focusText` puts the
 * focus back in the text. Returns what the text's keydown handler calls. */
export function keyboardToolbar(toolbar, focusText) {
  const all = () => [...toolbar.querySelectorAll("button, input, select")];
  const usable = () =>
    all().filter((control) => !control.disabled && !control.closest("[hidden]") && control.getClientRects().length);
  const tabStop = () => all().find((control) => control.tabIndex === 0);
  function makeTabStop(chosen) {
    for (const control of all()) control.tabIndex = control === chosen ? 0 : -1;
  }
  makeTabStop(all()[0]);
  toolbar.setAttribute("aria-keyshortcuts", "Alt+F10");

  toolbar.addEventListener("focusin", (event) => {
    if (event.target !== toolbar) makeTabStop(event.target);
  });
  toolbar.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "Escape") {
      event.preventDefault();
      focusText();
      return;
    }
    const move = MOVES[event.key];
    if (!move || usesArrows(event.target)) return;
    const list = usable();
    if (!list.length) return;
    event.preventDefault();
    const next = list[move(Math.max(list.indexOf(event.target), 0), list.length)];
    makeTabStop(next);
    next.focus();
  });

  return {
    /** After the toolbar changed (table tools shown or hidden, a button disabled): the Tab
     * stop moves to the first usable control if its own is no longer one. */
    keepTabStop() {
      const list = usable();
      if (list.length && !list.includes(tabStop()) && !toolbar.contains(document.activeElement)) {
        makeTabStop(list[0]);
      }
    },
    /** For the text's keydown: Alt+F10 goes to the toolbar. True when the key was used. */
    keyInText(event) {
      if (event.key !== "F10" || !event.altKey || toolbar.hidden) return false;
      const list = usable();
      const target = list.includes(tabStop()) ? tabStop() : list[0];
      if (!target) return false;
      target.focus();
      return true;
    },
  };
}
