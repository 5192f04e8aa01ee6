var marks = document.querySelectorAll("#topic-map .mark");
var tip = document.getElementById("tooltip");
function show(mark, x, y) {
  var topic = TN.topics[Number(mark.dataset.topic)];
  tip.textContent = "";
  var head = document.createElement("strong");
  head.textContent = topic.topic + ": " + topic.label;
  var terms = document.createElement("div");
  terms.textContent = topic.terms.join(", ");
  var share = document.createElement("div");
  share.textContent = (100 * topic.share).toFixed(1) + "% of the corpus";
  tip.append(head, terms, share);
  tip.hidden = false;
  tip.style.left = (x + 12) + "px";
  tip.style.top = (y + 12) + "px";
}
marks.forEach(function (mark) {
  mark.addEventListener("mousemove", function (e) { show(mark, e.clientX, e.clientY); });
  mark.addEventListener("mouseleave", function () { tip.hidden = true; });
  mark.addEventListener("focus", function () {
    var box = mark.getBoundingClientRect();
    show(mark, box.right, box.top);
  });
  mark.addEventListener("blur", function () { tip.hidden = true; });
  mark.addEventListener("click", function () { TN.select(mark.dataset.topic); });
  mark.addEventListener("keydown", function (e) {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); TN.select(mark.dataset.topic); }
  });
});
TN.on("select", function (t) {
  marks.forEach(function (mark) {
    mark.classList.toggle("selected", Number(mark.dataset.topic) === t);
    mark.setAttribute("aria-pressed", Number(mark.dataset.topic) === t ? "true" : "false");
  });
});
