// Topics over time, by group, window by window: a click selects the topic; the selected
// topic's panel, column or row is marked. `data` is the section's id.
var root = document.getElementById(data);
var marks = root.querySelectorAll("[data-topic]");
marks.forEach(function (el) {
  if (el.tagName === "BUTTON" || el.tagName === "rect" || el.tagName === "FIGURE") {
    el.addEventListener("click", function (event) {
      event.stopPropagation();
      TN.select(el.dataset.topic);
    });
  }
});
TN.on("select", function (t) {
  marks.forEach(function (el) {
    var on = Number(el.dataset.topic) === t;
    el.classList.toggle("selected", on);
    if (el.tagName === "TR" || el.tagName === "FIGURE") {
      if (on) el.setAttribute("aria-current", "true"); else el.removeAttribute("aria-current");
    }
  });
});
