// The HTML the visual editor saves puts each block on a line of its own. Readers see no
// difference (a line break next to a block is not rendered), but the editor's line diffs
// (a 409 conflict, revisions) then show the paragraph that changed, not one line holding
// the whole post.

// Elements that start a line in the saved source.
const LINE_TAGS = new Set(["p", "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "article",
  "aside", "header", "footer", "address", "figure", "figcaption", "blockquote", "ul", "ol", "li",
  "pre", "hr", "table", "thead", "tbody", "tfoot", "tr", "caption", "dl", "dt", "dd", "details",
  "summary"]);

// Where a line break would be seen: a <pre>, or an element styled to keep white space.
function keepsWhiteSpace(element) {
  return element.localName === "pre" || /white-space/i.test(element.getAttribute("style") || "");
}

/** Put a line break before every block in `parent` that follows something, and before
 * the end of a block whose last child is a block. */
export function breakLinesBetweenBlocks(parent) {
  let lastWasBlock = false;
  for (const child of [...parent.childNodes]) {
    lastWasBlock = child.nodeType === 1 && LINE_TAGS.has(child.localName);
    if (lastWasBlock && child.previousSibling) child.before("\n");
    if (child.nodeType === 1 && !keepsWhiteSpace(child)) breakLinesBetweenBlocks(child);
  }
  if (lastWasBlock && parent.nodeType === 1 && LINE_TAGS.has(parent.localName)) parent.append("\n");
}
