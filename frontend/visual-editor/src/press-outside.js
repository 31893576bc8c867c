// A press outside the text while a syllable is being composed (a tap on Save) makes
// Chromium commit the syllable and scroll the caret into view, between the press and the
// release: the release lands on whatever moved under the pointer, and the click is lost.
// The page is put back where it was when the press began.

/** Keep the page still through a press outside `textOf()` that ends a composition. */
export function keepPageStillOnPressOutside(textOf, composing) {
  let kept = null;
  document.addEventListener(
    "pointerdown",
    (event) => {
      const text = textOf();
      kept = text && composing() && !text.contains(event.target) ? [window.scrollX, window.scrollY] : null;
    },
    true,
  );
  document.addEventListener(
    "compositionend",
    () => {
      if (kept) window.scrollTo(kept[0], kept[1]);
      kept = null;
    },
    true,
  );
  document.addEventListener("pointerup", () => (kept = null), true);
}
