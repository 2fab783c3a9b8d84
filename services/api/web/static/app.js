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
    groupOf(lead).querySelector("h2").insertAdjacentElement("afterend", card);
  });

  // The role's section (the new ones go on top, under the filter), made when it has none yet.
  function groupOf(lead) {
    var group = document.getElementById(lead.group);
    if (!group) {
      group = document.createElement("section");
      group.className = "role-group";
      group.id = lead.group;
      var heading = document.createElement("h2");
      var link = document.createElement("a");
      link.href = lead.role_url;
      link.textContent = lead.role_title;
      heading.appendChild(link);
      group.appendChild(heading);
      live.insertAdjacentElement("afterend", group);
    }
    return group;
  }
})();

// Skill suggestions for comma-separated skill fields: the part after the last comma is
// completed from the taxonomy (GET /ui/skills?q=). Arrow keys move, Enter picks, Escape closes.
(function () {
  "use strict";
  var fields = document.querySelectorAll("input[data-skills]");
  Array.prototype.forEach.call(fields, function (input, n) {
    var list = document.createElement("ul");
    list.id = "suggest-" + n;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.insertAdjacentElement("afterend", list);
    var chosen = -1;

    function parts() { return input.value.split(","); }
    function close() { list.hidden = true; chosen = -1; input.setAttribute("aria-expanded", "false"); }
    function pick(label) {
      var all = parts();
      all[all.length - 1] = (all.length > 1 ? " " : "") + label;
      input.value = all.join(",") + ", ";
      close();
      input.focus();
    }
    function mark() {
      Array.prototype.forEach.call(list.children, function (item, i) {
        item.setAttribute("aria-selected", i === chosen ? "true" : "false");
      });
    }
    input.addEventListener("input", function () {
      var typed = parts().pop().trim();
      if (typed.length < 1) { close(); return; }
      fetch("/ui/skills?q=" + encodeURIComponent(typed), {credentials: "same-origin"})
        .then(function (answer) { return answer.ok ? answer.json() : []; })
        .then(function (labels) {
          list.textContent = "";
          labels.forEach(function (label, i) {
            var item = document.createElement("li");
            item.id = list.id + "-" + i;
            item.setAttribute("role", "option");
            item.textContent = label;
            item.addEventListener("mousedown", function (event) { event.preventDefault(); pick(label); });
            list.appendChild(item);
          });
          chosen = -1;
          list.hidden = labels.length === 0;
          input.setAttribute("aria-expanded", labels.length ? "true" : "false");
        });
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var size = list.children.length;
        chosen = (chosen + (event.key === "ArrowDown" ? 1 : size - 1)) % size;
        mark();
      } else if (event.key === "Enter" && chosen >= 0) {
        event.preventDefault();
        pick(list.children[chosen].textContent);
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", close);
  });
})();
