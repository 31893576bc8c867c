// Switching a post between Markdown and HTML on the editor page converts its body, after a
// question that says what will change; declining changes nothing. Markdown becomes the
// HTML it renders to (the server's renderer and sanitiser, /admin/posts/editable-html);
// HTML stays as it is, now read as Markdown. Without JavaScript the select only changes
// how the body is read, as before.
(function () {
  "use strict";

  var form = document.getElementById("post-form");
  var format = document.getElementById("format");
  var textarea = document.getElementById("body");
  // The Markdown toolbar's data-* attributes hold the questions and the address.
  var toolbar = document.getElementById("markdown-toolbar");
  if (!form || !format || !textarea || !toolbar) return;

  var current = format.value;
  var converting = false;
  // The last conversion to HTML: switching back before the HTML is changed restores the
  // Markdown exactly as it was.
  var converted = null;

  async function renderedHTML(markdown) {
    var data = new FormData();
    data.append("body", markdown);
    data.append("format", "markdown");
    data.append("csrf_token", form.elements.csrf_token.value);
    var response;
    try {
      response = await fetch(toolbar.dataset.editableUrl, {
        method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" },
      });
    } catch (error) {
      throw new Error(toolbar.dataset.convertFailed);
    }
    var answer = await response.json().catch(function () { return {}; });
    if (!response.ok || typeof answer.html !== "string") {
      throw new Error(answer.problem || toolbar.dataset.convertFailed);
    }
    return answer.html;
  }

  function setBody(text) {
    if (textarea.value === text) return;
    textarea.value = text;
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function setFormat(wanted) {
    current = format.value = wanted;
    // Announced as the writer's own choice: the preview, the visual editor's offer, the
    // Markdown toolbar and autosave follow it.
    format.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // Switch the post to `wanted` ("html" or "markdown"), converting after the writer agrees.
  // Resolves to whether the post is now in `wanted`. The visual editor's "Visual" button
  // uses it for a Markdown post (format.switchFormat).
  async function switchFormat(wanted) {
    if (wanted === current) return true;
    if (converting) return false;
    var body = textarea.value;
    var empty = body.trim() === "";
    if (wanted === "html") {
      if (!empty && !window.confirm(toolbar.dataset.toHtmlQuestion)) return false;
      var html = "";
      if (!empty) {
        converting = true;
        // The body waits for the answer: a change typed now would be lost in it.
        textarea.readOnly = true;
        try {
          html = await renderedHTML(body);
        } catch (error) {
          window.alert(error.message);
          return false;
        } finally {
          converting = false;
          textarea.readOnly = false;
        }
        converted = { markdown: body, html: html };
      }
      setBody(html);
    } else if (converted && body === converted.html) {
      setBody(converted.markdown);
    } else if (!empty && !window.confirm(toolbar.dataset.toMarkdownQuestion)) {
      return false;
    }
    setFormat(wanted);
    return true;
  }
  format.switchFormat = switchFormat;

  // The select's own change: held back (before htmx, autosave and the visual editor see
  // it) until the body is converted, so that body and format always match.
  document.addEventListener("change", function (event) {
    if (event.target !== format || format.value === current) return;
    event.stopImmediatePropagation();
    var wanted = format.value;
    format.value = current;
    switchFormat(wanted);
  }, true);
})();
