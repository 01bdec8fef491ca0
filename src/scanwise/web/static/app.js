// scanwise pages work without this script; it adds a file-size check before upload, a busy
// state on submit, example fill-ins, focus on new results, and the API page's "Try it".
(function () {
  "use strict";

  function formatMB(bytes) { return (bytes / 1048576).toFixed(1).replace(/\.0$/, "") + " MB"; }

  // Refuse oversized uploads before sending them, with the limit named.
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    var limit = Number(input.dataset.maxBytes);
    var message = document.getElementById(input.id + "-size");
    input.addEventListener("change", function () {
      var total = 0;
      Array.prototype.forEach.call(input.files, function (f) { total += f.size; });
      var tooBig = total > limit;
      input.setCustomValidity(tooBig ? "too large" : "");
      if (message) {
        message.textContent = tooBig ? "These files are " + formatMB(total) + "; the limit is " +
          formatMB(limit) + " in all. Choose fewer or smaller files." : "";
      }
    });
  });

  // Busy state: keep people from sending twice, and say that work is under way.
  document.querySelectorAll("form[data-busy-text]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var file = form.querySelector("input[type=file]");
      if (file && !file.checkValidity()) {
        event.preventDefault();
        file.focus();
        return;
      }
      var clicked = event.submitter;
      form.setAttribute("aria-busy", "true");
      window.setTimeout(function () {  // after the browser has read the clicked button's value
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
        if (clicked && clicked.classList.contains("button-primary")) { clicked.textContent = form.dataset.busyText; }
      }, 0);
    });
  });

  // Example buttons fill the box they belong to.
  document.querySelectorAll("button[data-fill]").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = document.getElementById(button.dataset.fill);
      if (!target) { return; }
      target.value = button.dataset.text;
      target.focus();
    });
  });

  // After a post-back, move focus to what is new (a problem, or the result) for keyboard and
  // screen-reader users.
  var focusTarget = document.querySelector("[data-focus]");
  if (focusTarget && document.referrer && new URL(document.referrer).pathname === location.pathname) {
    focusTarget.focus();
  }

  // Patient answer: a link in "In this answer" (or to a source) opens its section first.
  function openFor(hash) {
    var el = hash && document.getElementById(hash.replace(/^#/, ""));
    if (!el) { return; }
    var details = el.tagName === "DETAILS" ? el : el.closest("details");
    if (details) { details.open = true; }
  }
  document.querySelectorAll(".answer-toc a, a[href^='#src-']").forEach(function (link) {
    link.addEventListener("click", function () { openFor(link.getAttribute("href")); });
  });
  openFor(location.hash);

  // API page: send a request and show the response.
  document.querySelectorAll("form[data-try]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var out = form.querySelector(".response");
      var body = form.querySelector("textarea");
      var options = { method: form.dataset.method, headers: {} };
      if (body) { options.body = body.value; options.headers["Content-Type"] = "application/json"; }
      out.textContent = "Sending…";
      fetch(form.dataset.path, options).then(function (response) {
        return response.text().then(function (text) {
          var shown = text;
          try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON */ }
          out.textContent = response.status + " " + response.statusText + "\n" + shown;
        });
      }).catch(function (error) { out.textContent = "Request failed: " + error; });
    });
  });
})();
