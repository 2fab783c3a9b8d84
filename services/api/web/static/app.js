// New leads pushed by the server (server-sent events) go on top of the inbox, no reload.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !live.dataset.stream || !window.EventSource) return;
  var url = live.dataset.stream + "?since=" + encodeURIComponent(live.dataset.since || "");
  var source = new EventSource(url);
  source.addEventListener("lead", function (message) {
    var lead = JSON.parse(message.data);
    var holder = document.createElement("div");
    holder.innerHTML = lead.html;  // rendered and escaped by the server's templates
    var card = holder.firstElementChild;
    if (!card || document.getElementById(card.id)) return;
    card.classList.add("fresh");
    var empty = document.getElementById("empty");
    if (empty) empty.remove();
    live.insertBefore(card, live.firstChild);
  });
})();
