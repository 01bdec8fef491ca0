// Offline search over the article index (window.SCANWISE_INDEX, loaded from search-index.js).
// Every word typed must appear in the title, label, conditions or studies of an article.
(function () {
  "use strict";
  var index = window.SCANWISE_INDEX || [];
  var input = document.getElementById("q");
  var results = document.getElementById("results");
  var status = document.getElementById("search-status");
  var all = document.getElementById("all");
  if (!input || !results) { return; }
  var haystacks = index.map(function (a) {
    return [a.title, a.label, a.topic, "acr " + a.topic_id, "variant " + a.variant, a.text]
      .join(" ").toLowerCase();
  });
  function show(query) {
    var words = query.toLowerCase().split(/\s+/).filter(Boolean);
    results.textContent = "";
    if (!words.length) {
      results.hidden = true; all.hidden = false; status.textContent = "";
      return;
    }
    var hits = [];
    for (var i = 0; i < index.length; i++) {
      if (words.every(function (w) { return haystacks[i].indexOf(w) !== -1; })) { hits.push(index[i]); }
    }
    hits.forEach(function (a) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = a.path;
      link.textContent = "ACR " + a.topic_id + " variant " + a.variant + (a.status !== "current" ? " (retired)" : "");
      var desc = document.createElement("span");
      desc.className = "desc";
      desc.textContent = a.label || a.title;
      li.appendChild(link); li.appendChild(desc);
      results.appendChild(li);
    });
    results.hidden = false; all.hidden = true;
    status.textContent = hits.length + (hits.length === 1 ? " scenario matches" : " scenarios match");
  }
  input.addEventListener("input", function () { show(input.value); });
  if (input.value) { show(input.value); }
}());
