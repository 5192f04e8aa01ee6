// The topic tree: a leaf (in the drawing or the list) selects its topic; the selected
// topic's path from the root is highlighted.
var picks = document.querySelectorAll("#tree [data-topic]");
var svgLeaves = document.querySelectorAll("#topic-tree .leaf");
var edges = document.querySelector("#topic-tree .edges");
picks.forEach(function (el) {
  if (el.tagName === "LI") return;  // its button selects
  el.addEventListener("click", function () { TN.select(el.dataset.topic); });
  if (el.tagName === "BUTTON") return;
  el.addEventListener("keydown", function (e) {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); TN.select(el.dataset.topic); }
  });
});
TN.on("select", function (t) {
  var onPath = {};
  for (var n = data.node[t]; n !== undefined && n >= 0; n = data.parent[n]) onPath[n] = true;
  svgLeaves.forEach(function (leaf) {
    var chosen = Number(leaf.dataset.topic) === t;
    leaf.classList.toggle("selected", chosen);
    leaf.setAttribute("aria-pressed", chosen ? "true" : "false");
  });
  document.querySelectorAll("#topic-tree .inner").forEach(function (g) {
    g.classList.toggle("on-path", onPath[Number(g.dataset.node)] === true);
  });
  document.querySelectorAll("#tree li[data-topic]").forEach(function (li) {
    if (Number(li.dataset.topic) === t) li.setAttribute("aria-current", "true");
    else li.removeAttribute("aria-current");
  });
  Array.prototype.slice.call(edges.children).forEach(function (edge) {
    var lit = onPath[Number(edge.dataset.node)] === true;
    edge.classList.toggle("on-path", lit);
    // drawn last, so that a sibling's line does not cover the highlighted one
    if (lit) edges.appendChild(edge);
  });
});
