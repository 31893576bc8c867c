// A save answers with a new page (the saved post, or the writer's text again with a 409
// conflict or a 422 problem): a writer who saved from visual mode gets visual mode back.
// Kept in sessionStorage, so it stays with this tab and is used by the next page only.
const KEY = "blog.visual-editor.reopen";

/** Note on each submit of `form` whether visual mode was open. */
export function rememberModeOnSubmit(form, inVisualMode) {
  form.addEventListener("submit", () => {
    try {
      if (inVisualMode()) window.sessionStorage.setItem(KEY, "1");
      else window.sessionStorage.removeItem(KEY);
    } catch {
      // Storage refused (a private window): the page opens in HTML mode, as without it.
    }
  });
}

/** Whether the page before this one was submitted from visual mode (asked once). */
export function submittedFromVisualMode() {
  try {
    const visual = window.sessionStorage.getItem(KEY) === "1";
    window.sessionStorage.removeItem(KEY);
    return visual;
  } catch {
    return false;
  }
}
