// The editor's few behaviours htmx attributes cannot express: keeping the working copy when
// the page is left, dropping images on the body, and inserting uploaded images.
(function () {
  "use strict";

  // Autosave on leaving the page: sendBeacon survives the navigation.
  function keepWorkingCopy() {
    var form = document.getElementById("post-form");
    var autosave = document.getElementById("autosave");
    if (!form || !autosave || !form.dataset.dirty) return;
    var data = new FormData(form);
    navigator.sendBeacon(autosave.dataset.beacon, data);
    delete form.dataset.dirty;
  }

  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("#post-form");
    if (form) form.dataset.dirty = "1";
  });
  document.addEventListener("submit", function (event) {
    if (event.target.id !== "post-form") return;
    delete event.target.dataset.dirty;
    event.target.dataset.submitting = "1";
  });
  // Once the form is being saved for real, a working copy would only be stale.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = document.getElementById("post-form");
    if (event.detail.elt.id === "autosave" && form && form.dataset.submitting) event.preventDefault();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") keepWorkingCopy();
  });
  window.addEventListener("pagehide", keepWorkingCopy);
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "autosave" && event.detail.successful) {
      var form = document.getElementById("post-form");
      if (form) delete form.dataset.dirty;
    }
  });

  function insertAtCursor(textarea, text) {
    // In visual mode the visual editor inserts at its own caret and writes the textarea back.
    if (textarea.insertIntoVisual && textarea.insertIntoVisual(text)) return;
    var start = textarea.selectionStart, end = textarea.selectionEnd;
    textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
    textarea.selectionStart = textarea.selectionEnd = start + text.length;
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // The server writes the snippet (alt text and caption escaped for each format); the
  // body's current format picks one.
  function imageSnippet(container) {
    var format = document.getElementById("format");
    var html = format && format.value === "html";
    return (html ? container.dataset.html : container.dataset.markdown) || "";
  }

  // With JavaScript, images upload at once: show the upload form, retire the attachment input.
  document.addEventListener("DOMContentLoaded", function () {
    var uploadForm = document.getElementById("upload-form");
    var attach = document.querySelector(".upload-panel .attach");
    if (uploadForm) uploadForm.hidden = false;
    if (attach) attach.remove();
  });

  // An image needs alt text: ask for it before uploading when the field is empty (captured
  // before htmx sees the submit). Cancelling the question cancels the upload.
  document.addEventListener("submit", function (event) {
    if (event.target.id !== "upload-form") return;
    var alt = event.target.querySelector("input[name=alt]");
    if (!alt || alt.value.trim()) return;
    var answer = window.prompt(alt.form.dataset.altQuestion || "Alt text", "");
    if (answer === null) {
      insertAfterUpload = false;
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    alt.value = answer;
  }, true);
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.id === "upload-form" && event.detail.successful) form.reset();
  });

  var insertAfterUpload = false;

  function useUploaded(container, action) {
    var body = document.getElementById("body");
    if (action === "feature") {
      var feature = document.getElementById("feature_image");
      if (feature) {
        feature.value = container.dataset.url;
        feature.dispatchEvent(new Event("change", { bubbles: true }));
      }
    } else if (body) {
      insertAtCursor(body, "\n" + imageSnippet(container) + "\n");
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-insert-image], [data-feature-image]");
    if (!button) return;
    var container = button.closest(".uploaded");
    useUploaded(container, button.hasAttribute("data-feature-image") ? "feature" : "insert");
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!insertAfterUpload || event.detail.target.id !== "upload-result") return;
    insertAfterUpload = false;
    var uploaded = document.querySelector("#upload-result .uploaded");
    if (uploaded) useUploaded(uploaded, "insert");
  });

  // Drag and drop onto the body: hand the file to the upload form, insert when it is back.
  document.addEventListener("dragover", function (event) {
    if (event.target.id === "body") {
      event.preventDefault();
      event.target.classList.add("drop-target");
    }
  });
  document.addEventListener("dragleave", function (event) {
    if (event.target.id === "body") event.target.classList.remove("drop-target");
  });
  document.addEventListener("drop", function (event) {
    var onBody = event.target.id === "body" || (event.target.closest && event.target.closest(".visual-surface"));
    if (!onBody || !event.dataTransfer.files.length) return;
    event.preventDefault();
    event.target.classList.remove("drop-target");
    uploadAndInsert(event.dataTransfer.files);
  });
  // The visual editor's image button (and paste) hand their files over the same way.
  document.addEventListener("editor:upload-images", function (event) {
    uploadAndInsert(event.detail.files);
  });

  function uploadAndInsert(files) {
    var form = document.getElementById("upload-form");
    var input = form && form.querySelector("input[type=file]");
    if (!input) return;
    input.files = files;
    insertAfterUpload = true;
    form.requestSubmit();
  }
})();

// The editor's primary button says what saving does (Save, Submit for review, Publish,
// Schedule) for the status chosen right now.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    if (event.target.id !== "status") return;
    var button = document.getElementById("save-button");
    if (!button || !button.dataset.labels) return;
    var labels = JSON.parse(button.dataset.labels);
    button.textContent = labels[event.target.value] || labels.draft;
  });
})();

// An autosave the server refused (sign-in ended, too long, database busy) answers with one
// plain sentence in the user's language: show it where the save status goes.
(function () {
  "use strict";
  document.addEventListener("htmx:responseError", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "autosave") return;
    var xhr = event.detail.xhr;
    var type = (xhr && xhr.getResponseHeader("Content-Type")) || "";
    var status = document.getElementById("save-status");
    var text = (xhr && xhr.responseText) || "";
    var sentence = type.indexOf("text/plain") === 0 || (text.length < 300 && text.indexOf("<") < 0);
    if (!status || !text || !sentence) return;
    status.textContent = text.slice(0, 300);
    status.classList.add("save-error");
  });
})();
